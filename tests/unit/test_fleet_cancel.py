"""A job's cancel request (fleet/cancel.py) as the workers and the status honour it: nothing more
is enqueued, a delivery skips the job, the running stage process is stopped, the status says
cancelled; a request older than the submission changes nothing."""

from __future__ import annotations

import sys
import time

import pytest

from fleet import work
from fleet.cancel import cancelled, request_cancel
from fleet.dispatch import enqueue_ready
from fleet.record import StageRecord, new_record, read_record, write_record
from host.jobs import create_job
from host.queue.status import job_status
from shared import joblock
from tests.conftest import make_media


@pytest.fixture
def job(tmp_path):
    media = make_media(tmp_path / "tone.wav", "-f", "lavfi", "-i", "sine=d=1")
    return create_job(media, jobs_dir=tmp_path / "jobs")


def published(calls):
    return lambda job_id, stage, queue: calls.append((job_id, stage, queue))


def test_a_request_applies_to_the_submission_it_came_after(job):
    request_cancel(job.root, "cancelled by a test")
    request = cancelled(job.root, since=0.0)
    assert request is not None and request["reason"] == "cancelled by a test"
    assert cancelled(job.root, since=time.time() + 1) is None  # a later submission is not cancelled
    (job.root / "cancel.json").write_text("{not json")
    assert cancelled(job.root, since=0.0) is None


def test_nothing_is_enqueued_and_a_delivery_skips_a_cancelled_job(job):
    record = new_record("cpu", ["demux", "silero-vad"], skip=[], forced=[])
    calls: list = []
    assert enqueue_ready(job, record, published(calls)) == ["demux"]
    request_cancel(job.root, "cancelled by a test")
    assert work.run_delivery(job.id, "demux", published(calls), job.root.parent) == work.CANCELLED
    assert read_record(job.root).stages["demux"].deliveries == 0  # demux never started
    assert not (job.root / "demux" / "outcome.json").exists()
    assert enqueue_ready(job, read_record(job.root), published(calls)) == [] and len(calls) == 1
    status = job_status(job)
    assert status["state"] == "cancelled" and status["error"] == "cancelled by a test"


def test_the_running_stage_is_stopped_and_recorded_cancelled_not_failed(job, monkeypatch):
    monkeypatch.setattr(work, "CANCEL_POLL_S", 0.1)
    monkeypatch.setattr(work, "stage_command", lambda *_: [sys.executable, "-c", "import time; time.sleep(60)"])
    record = new_record("cpu", ["demux", "silero-vad"], skip=[], forced=[])
    enqueue_ready(job, record, published([]))
    real_run = work.run_stage_process

    def run_then_cancel(*args):
        import threading

        threading.Timer(0.5, request_cancel, (job.root, "stop it")).start()
        return real_run(*args)

    monkeypatch.setattr(work, "run_stage_process", run_then_cancel)
    started = time.monotonic()
    assert work.run_delivery(job.id, "demux", published([]), job.root.parent) == work.CANCELLED
    assert time.monotonic() - started < 10  # stopped, not slept out
    after = read_record(job.root)
    assert after.failed is None and after.stages["demux"].exit_code == -15  # SIGTERM
    assert [row["state"] for row in job_status(job)["stages"]] == ["cancelled", "waiting"]
    from host.service.status import job_status as service_status

    by_stage = {row["stage"]: row["status"] for row in service_status(job.root)["stages"]}
    assert by_stage["demux"] == "cancelled" and by_stage["asr"] == "not run"  # what GET /jobs/{id} shows
    with joblock.acquire(job.root):  # the delivery let go of the job
        pass


def test_a_stage_that_finished_before_the_cancel_keeps_its_state(job):
    record = new_record("cpu", ["demux", "silero-vad"], skip=[], forced=[])
    record.stages["demux"] = StageRecord("demux", record.submitted_at, record.submitted_at, "w:1", 1, 0)
    write_record(job.root, record)
    from shared.lock import write_outcome

    (job.root / "demux").mkdir()
    write_outcome(job.root / "demux", {"stage": "demux", "status": "ran"})
    request_cancel(job.root, "late")
    states = [row["state"] for row in job_status(job)["stages"]]
    assert states == ["done", "waiting"] and job_status(job)["state"] == "cancelled"
