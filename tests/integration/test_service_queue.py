"""The service on the queue (SERVICE_EXECUTOR=queue) for real: Debian's redis-server on loopback,
a Celery worker process serving every queue, the service under uvicorn on a loopback port.

A job posted while no worker runs is cancelled through ``DELETE /jobs/{id}`` and the worker,
started afterwards, skips it; ``POST /asr`` with jfk.flac then answers jfk's SRT through the
queue (the job folder has the queue's record, every stage ran on the worker), and
``GET /jobs/{id}`` shows its stages."""

from __future__ import annotations

import time

import httpx
import pytest

from bench.fleet_procs import NoRedis, RedisServer, Worker, queue_env
from fleet.record import read_record
from tests.integration.test_fleet import wait_for
from tests.integration.test_service import Service

pytestmark = pytest.mark.integration


def test_asr_and_jobs_through_the_queue(eval_data, tmp_path):
    try:
        redis = RedisServer(tmp_path / "redis")
    except NoRedis as err:
        pytest.skip(str(err))
    redis.start()
    service = Service(tmp_path / "service", SERVICE_EXECUTOR="queue", QUEUE_BROKER_URL=redis.url, MAX_UPLOAD_MB="16")
    worker: Worker | None = None
    try:
        service.start()
        jfk = (eval_data / "jfk.flac").read_bytes()

        # a job nobody works on yet: cancelled while queued
        posted = httpx.post(f"{service.url}/jobs", files={"file": ("queued.flac", jfk)},
                            data={"until": "subtitles"}, timeout=60)
        assert posted.status_code == 202, posted.text
        queued_id = posted.json()["id"]
        wait_for(lambda: read_record(service.jobs / queued_id), 30, "the job's queue record")
        assert httpx.get(f"{service.url}/jobs/{queued_id}", timeout=30).json()["state"] == "queued"
        deleted = httpx.delete(f"{service.url}/jobs/{queued_id}", timeout=60)
        assert (deleted.status_code, deleted.json()["state"]) == (202, "cancelled"), deleted.text
        assert httpx.delete(f"{service.url}/jobs/{queued_id}", timeout=30).status_code == 409

        env = queue_env(redis, service.jobs, QUEUE_LOCK_RETRY_S="1")
        worker = Worker(["--all", "--profile", "cpu", "--name", "all@test"], env, tmp_path / "worker.log")

        started = time.monotonic()
        answer = httpx.post(f"{service.url}/asr", params={"output": "srt", "language": "en"},
                            files={"audio_file": ("jfk.flac", jfk)}, timeout=300)
        asr_s = time.monotonic() - started
        assert answer.status_code == 200, (answer.text, worker.log.read_text()[-3000:])
        assert "ask not what your country can do for you" in answer.text.lower(), answer.text
        assert answer.text.lstrip().startswith("1\n00:00:")
        job_id = answer.headers["x-job-id"]
        record = read_record(service.jobs / job_id)
        assert record is not None and record.failed is None
        assert {name for name, entry in record.stages.items() if entry.deliveries} == {"demux", "shots", "silero-vad", "asr", "subtitles"}
        assert all(entry.worker.endswith(f":{worker.pid}") for entry in record.stages.values())

        status = httpx.get(f"{service.url}/jobs/{job_id}", timeout=30).json()
        assert status["state"] == "done", status
        stages = {s["stage"]: s for s in status["stages"]}
        assert stages["asr"]["status"] == "ran" and stages["asr"]["wall_s"] > 0
        assert stages["diarization"]["status"] == "skipped"
        assert any(name.endswith(".srt") for name in status["files"])

        # the worker took the cancelled job's demux task and ran nothing of it
        wait_for(lambda: "was cancelled; skipped" in worker.log.read_text(errors="replace"), 60,
                 "the worker to skip the cancelled job")
        assert not (service.jobs / queued_id / "demux" / "outcome.json").exists()
        assert httpx.get(f"{service.url}/jobs/{queued_id}", timeout=30).json()["state"] == "cancelled"
        print(f"\n/asr through the queue (jfk.flac, one worker): {asr_s:.1f} s")
    finally:
        service.stop()
        if worker is not None:
            worker.stop()
        redis.stop()
