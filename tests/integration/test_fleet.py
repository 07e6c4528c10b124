"""The queue executor for real: Debian's redis-server on loopback, Celery workers as processes.

One batch: three good inputs, one bad input, two asr workers and one worker for the other
queues. Mid-batch, a job's lock is held by another process (its tasks wait, then run), an asr
worker is SIGKILLed in the middle of asr together with its stage (the task is redelivered by
Redis and the stage run again), and Redis is restarted (append-only file: nothing is lost).
Every good job ends with subtitles byte-identical to a native run; the bad one fails alone,
with its reason in the status.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.fleet_procs import NoRedis, RedisServer, Worker, queue_env
from fleet.record import read_record
from shared import joblock
from shared.fsio import read_json
from tests.conftest import REPO_ROOT, make_media, stage_env

pytestmark = pytest.mark.integration

SKIP = "shots,pre-ner,post-ner,pyannote-vad,diarization,speakers,lyrics-detection,translation,second-pass-translation"
SPEECH = [
    "The queue hands every stage to a worker, and the worker runs it exactly as the runner would.",
    ("A long time ago, in a quiet village by the sea, an old sailor told stories to anyone who would listen. "
     "He spoke of storms and distant harbours, of friends he had lost and songs he still remembered. "
     "Every evening the children gathered by the fire, and every evening he began a new story."),
]


def flite(text: str, path: Path) -> Path:
    subprocess.run(["flite", "-t", text, "-o", str(path)], check=True, timeout=60)
    return path


@pytest.fixture(scope="module")
def inputs(eval_data, tmp_path_factory) -> dict[str, Path]:
    for tool in ("flite", "ffmpeg"):
        if subprocess.run(["which", tool], capture_output=True).returncode:
            pytest.skip(f"{tool} is not installed (make system-deps)")
    folder = tmp_path_factory.mktemp("media")
    good = {"jfk": eval_data / "jfk.flac", "short": flite(SPEECH[0], folder / "short.wav"),
            "sailor": flite(SPEECH[1], folder / "sailor.wav")}
    mute = make_media(folder / "mute.mp4", "-f", "lavfi", "-i", "color=c=red:s=64x64:d=2", "-c:v", "libx264",
                      "-preset", "ultrafast")
    return {**good, "mute": mute}


def subtitle_files(job: Path) -> dict[str, bytes]:
    manifest = read_json(job / "subtitles" / "manifest.json")
    return {f["path"]: (job / "subtitles" / f["path"]).read_bytes() for f in manifest["files"]}


@pytest.fixture(scope="module")
def native(inputs, tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """The native runner's subtitles for every good input: what the queue must reproduce byte for byte."""
    jobs_dir = tmp_path_factory.mktemp("native-jobs")
    found = {}
    for name, media in inputs.items():
        if name == "mute":
            continue
        result = subprocess.run([sys.executable, "-m", "host.runner", str(media), "--jobs-dir", str(jobs_dir)],
                                cwd=REPO_ROOT, env=stage_env(jobs_dir, SKIP_STAGES=SKIP), capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        (job,) = [p for p in jobs_dir.iterdir() if p.name.startswith(media.stem[:4]) and p.is_dir()]
        found[name] = subtitle_files(job)
    return found


def status(env: dict[str, str], jobs_dir: Path) -> dict[str, dict]:
    out = subprocess.run([sys.executable, "-m", "host.queue", "--jobs-dir", str(jobs_dir), "status", "--json"],
                         cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    return {s["job"]: s for s in map(json.loads, out.stdout.splitlines())}


def wait_for(condition, timeout_s: float, what: str, step_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(step_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def test_batch_survives_a_killed_worker_a_held_lock_and_a_redis_restart(inputs, native, tmp_path):
    jobs_dir = tmp_path / "jobs"
    try:
        redis = RedisServer(tmp_path / "redis")
    except NoRedis as err:
        pytest.skip(str(err))
    redis.start()
    workers: list[Worker] = []
    try:
        env = queue_env(redis, jobs_dir, SKIP_STAGES=SKIP, QUEUE_VISIBILITY_TIMEOUT_S="10", QUEUE_LOCK_RETRY_S="2",
                        QUEUE_PUBLISH_RETRY_S="60")
        submitted = subprocess.run([sys.executable, "-m", "host.queue", "--jobs-dir", str(jobs_dir), "submit",
                                    *[str(p) for p in inputs.values()]],
                                   cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert submitted.returncode == 0, submitted.stderr
        ids = dict(zip(inputs, submitted.stdout.split(), strict=True))  # one job id per input, in order
        assert all(status(env, jobs_dir)[i]["stages"][0]["state"] == "queued" for i in ids.values())

        # another process works on the short job: its tasks must wait, not fail
        held = joblock.acquire(jobs_dir / ids["short"])
        worker_env = {k: v for k, v in env.items() if k != "SKIP_STAGES"}  # the job's record says what is off
        workers = [Worker(["--stage", "asr", "--profile", "cpu", "--name", f"asr{n}@test"], worker_env,
                          tmp_path / f"asr{n}.log") for n in (1, 2)]
        workers.append(Worker(["--queues", "demux,silero-vad,subtitles,mux", "--name", "other@test"], worker_env,
                              tmp_path / "other.log"))

        def asr_running():
            for name, job_id in ids.items():
                record = read_record(jobs_dir / job_id)
                entry = record.stages.get("asr") if record else None
                if entry and entry.started_at and not (jobs_dir / job_id / "asr" / "outcome.json").exists():
                    return name, entry.worker
            return None

        victim, worker_name = wait_for(asr_running, 180, "an asr stage to start")
        time.sleep(0.5)  # in the middle of it: the model is loading or transcribing
        (killed,) = [w for w in workers if worker_name.endswith(f":{w.pid}")]
        assert not (jobs_dir / ids[victim] / "asr" / "outcome.json").exists(), "asr finished before the kill"
        killed.kill()

        record = read_record(jobs_dir / ids["short"])
        assert record.stages["demux"].started_at is None and record.failed is None  # it waited for the lock
        held.release()

        redis.restart()  # mid-batch: queued tasks and unacknowledged ones live in the append-only file

        def all_finished():  # and summarized: the delivery that ends a job writes summary.json last
            found = status(env, jobs_dir)
            return found if all(found[i]["state"] in ("done", "failed") and (jobs_dir / i / "summary.json").is_file()
                                for i in ids.values()) else None

        final = wait_for(all_finished, 300, "every job to finish", step_s=1)
    finally:
        for worker in workers:
            worker.stop()
        redis.stop()
    logs = "".join(w.log.read_text(errors="replace")[-3000:] for w in workers)

    for name, job_id in ids.items():
        if name == "mute":
            continue
        assert final[job_id]["state"] == "done", (final[job_id], logs)
        assert subtitle_files(jobs_dir / job_id) == native[name], f"{name}: the queue's subtitles differ from the native run's"
        summary = read_json(jobs_dir / job_id / "summary.json")  # the native runner's format, from the worker
        rows = {row["stage"]: row["status"] for row in summary["stages"]}
        assert summary["executor"] == "queue" and summary["job"] == job_id, summary
        assert {rows[s] for s in ("demux", "silero-vad", "asr", "subtitles", "mux")} == {"ran"}, rows
        assert {rows[s] for s in SKIP.split(",")} == {"skipped"}, rows
        assert {Path(p).name for p in summary["outputs"]["subtitles"]} == set(native[name]), summary["outputs"]
    bad = final[ids["mute"]]
    bad_summary = read_json(jobs_dir / ids["mute"] / "summary.json")
    assert [r["status"] for r in bad_summary["stages"] if r["stage"] == "demux"][0].startswith("failed (")
    assert "no audio stream" in bad_summary["error"] and bad_summary["outputs"] == {}, bad_summary
    assert bad["state"] == "failed" and "no audio stream" in bad["error"], bad
    assert [s["state"] for s in bad["stages"] if s["stage"] == "demux"] == ["failed"]
    asr = [s for s in final[ids[victim]]["stages"] if s["stage"] == "asr"][0]
    assert asr["deliveries"] >= 2, asr  # the killed delivery, then Redis's redelivery
    assert read_record(jobs_dir / ids["short"]).stages["demux"].deliveries >= 1
