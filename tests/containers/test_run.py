"""The CPU profile end to end, as users run it: make run's executor on a real
video, then a rerun (every stage fresh), the guest rules inside a stage
container, and a broken input."""

from __future__ import annotations

import json
import subprocess

import pytest

from host.containers import jobs
from tests.containers.conftest import make_video, run_containers


def ffprobe_streams(path) -> list[dict]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,codec_type:stream_tags=language",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)["streams"]


@pytest.fixture
def jfk_job(cpu_images, host_dirs, eval_data):
    video = make_video(host_dirs["media"] / "jfk speech.mp4", eval_data / "jfk.flac")
    result = run_containers("run", str(video), "--profile", "cpu")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return video, result


def test_make_run_cpu_gives_subtitles_and_a_muxed_video(jfk_job, host_dirs):
    video, result = jfk_job
    (job,) = [p for p in host_dirs["jobs"].iterdir() if p.is_dir() and p.name != "batch-logs"]
    srt = next((job / "subtitles").glob("*.en.srt"))
    assert "fellow Americans" in srt.read_text()
    muxed = next((job / "mux").glob("*.subtitled.mp4"))
    subs = [s for s in ffprobe_streams(muxed) if s["codec_type"] == "subtitle"]
    assert subs and subs[0]["codec_name"] == "mov_text"
    summary = json.loads((job / "summary.json").read_text())
    assert summary["profile"] == "cpu"
    assert {s["status"] for s in summary["stages"]} <= {"ran", "skipped"}
    report = job / "report.html"  # written on the host by the executor's python3 (host/report)
    assert f"report: {report}" in result.stdout and "fellow Americans" in report.read_text()
    assert sorted(p.name for p in video.parent.iterdir()) == [video.name], "the input folder is read-only"
    project = jobs.project_name(job.name)
    left = subprocess.run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}"],
                          capture_output=True, text=True).stdout.split()
    assert not left, "containers are removed after the run"


def test_rerun_finds_every_stage_fresh(jfk_job, host_dirs):
    video, _ = jfk_job
    again = run_containers("run", str(video), "--profile", "cpu")
    assert again.returncode == 0, again.stderr[-3000:]
    (job,) = [p for p in host_dirs["jobs"].iterdir() if p.is_dir() and p.name != "batch-logs"]
    statuses = {s["stage"]: s["status"] for s in json.loads((job / "summary.json").read_text())["stages"]}
    assert set(statuses.values()) <= {"fresh", "skipped"}, statuses


def test_stage_containers_are_guests(jfk_job, host_dirs):
    """Read-only root, input and model cache, no network; only the job's own folder is writable,
    and no other job's folder is there."""
    (job,) = [p for p in host_dirs["jobs"].iterdir() if p.is_dir() and p.name != "batch-logs"]
    from shared.job import Job

    env = jobs.compose_env(Job(job))
    base = jobs.compose_base("cpu", jobs.project_name(job.name) + "-probe")
    script = ("id -u; "
              "touch /input/x 2>/dev/null && echo input-writable; "
              "touch /app/x 2>/dev/null && echo root-writable; "
              f"touch /jobs/{job.name}/probe && echo jobs-ok; rm -f /jobs/{job.name}/probe; "
              "touch /shared-model-and-cache/probe 2>/dev/null && echo cache-writable; "
              "ls /jobs; "
              "python -c \"import socket; socket.create_connection(('pypi.org', 443), 3)\" 2>/dev/null && echo online; "
              "true")
    probe = subprocess.run([*base, "run", "--rm", "--no-deps", "--entrypoint", "sh", "demux", "-c", script],
                           capture_output=True, text=True, env=env, timeout=120)
    lines = probe.stdout.split()
    assert lines[0] == "1000"
    assert "jobs-ok" in lines
    assert not {"input-writable", "root-writable", "cache-writable", "online", "batch-logs"} & set(lines), lines


def test_a_stage_container_gets_only_its_own_settings(jfk_job, host_dirs, monkeypatch):
    (job,) = [p for p in host_dirs["jobs"].iterdir() if p.is_dir() and p.name != "batch-logs"]
    from shared.job import Job

    monkeypatch.setenv("ASR_MODEL", "tiny.en")
    monkeypatch.setenv("ASR_BEAM_SIZE", "5")
    monkeypatch.setenv("SUBTITLE_MAX_LINES", "2")
    env = jobs.compose_env(Job(job), frozenset(), set())
    base = jobs.compose_base("cpu", jobs.project_name(job.name) + "-env")
    seen = {}
    for service in ("demux", "pre-ner", "subtitles"):
        probe = subprocess.run([*base, "run", "--rm", "--no-deps", "--entrypoint", "env", service],
                               capture_output=True, text=True, env=env, timeout=120)
        seen[service] = {line.split("=", 1)[0] for line in probe.stdout.splitlines()}
    assert "ASR_BEAM_SIZE" not in seen["demux"] | seen["pre-ner"] | seen["subtitles"]
    # job-wide: a multilingual ASR model switches translation on (the forced track), which every stage must know
    assert all("ASR_MODEL" in seen[s] for s in seen)
    assert "SUBTITLE_MAX_LINES" in seen["subtitles"] and "SUBTITLE_MAX_LINES" not in seen["demux"] | seen["pre-ner"]


def test_one_stage_alone(jfk_job, host_dirs):
    (job,) = [p for p in host_dirs["jobs"].iterdir() if p.is_dir() and p.name != "batch-logs"]
    result = run_containers("stage", "subtitles", "--job", job.name, "--profile", "cpu", "--", "--force")
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"status": "ran"' in result.stdout
    assert json.loads((job / "subtitles" / "outcome.json").read_text())["reasons"] == ["forced"]


def test_a_broken_input_fails_with_the_stages_reason(cpu_images, host_dirs):
    bad = host_dirs["media"] / "broken.mp4"
    bad.write_text("not a video")
    result = run_containers("run", str(bad), "--profile", "cpu")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "stopped at demux: demux: broken.mp4 is not a media file" in result.stderr
    for job in host_dirs["jobs"].glob("broken-*"):  # stages independent of demux (pre-ner) may have finished
        assert not (job / "demux" / "lock.json").exists()
        assert not (job / "subtitles").exists() and not (job / "mux").exists()


def test_sigterm_stops_the_containers_before_the_job_lock_goes(docker_ready, host_dirs, eval_data):
    """make run stopped with SIGTERM while asr runs: its compose project is stopped and removed, the
    summary says so, the exit status is 143 (images as they are: --no-build)."""
    import os
    import signal
    import sys
    import time

    from tests.conftest import REPO_ROOT

    media = host_dirs["media"] / "speech.flac"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-stream_loop", "11", "-i", str(eval_data / "jfk.flac"),
                    "-c:a", "flac", str(media)], check=True, timeout=120)
    env = {**os.environ, "EXECUTOR": "containers", "SKIP_STAGES": "pre-ner"}
    proc = subprocess.Popen([sys.executable, "-m", "host.containers", "run", "--profile", "cpu", "--no-build", "--until", "asr",
                             "--", str(media)], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)

    def containers(project: str, service: str | None = None) -> list[str]:
        """The project's containers (running or not), or its running ``service``."""
        filters = ["--filter", f"label=com.docker.compose.project={project}"]
        filters += ["--filter", f"label=com.docker.compose.service={service}"] if service else ["-a"]
        return subprocess.run(["docker", "ps", "-q", *filters], capture_output=True, text=True, check=True).stdout.split()

    deadline = time.monotonic() + 300
    project = None
    while time.monotonic() < deadline and proc.poll() is None:
        folders = [p for p in host_dirs["jobs"].iterdir() if p.is_dir()]
        project = jobs.project_name(folders[0].name) if folders else None
        if project and containers(project, "asr"):
            break
        time.sleep(0.5)
    assert proc.poll() is None and project, proc.communicate()[0][-3000:]
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 143, out[-3000:]
    assert containers(project) == [], "a container of the job outlived its executor"
    (root,) = [p for p in host_dirs["jobs"].iterdir() if p.is_dir()]
    summary = json.loads((root / "summary.json").read_text())
    assert summary["stopped_by"] == "SIGTERM"
    assert next(s for s in summary["stages"] if s["stage"] == "asr")["status"] == "stopped (SIGTERM)"
