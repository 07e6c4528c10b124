"""The service's queue executor without a broker: a publish that records, real job folders. The
runner's flags become the job's config, skips and --until; the state follows the folder; a cancel
becomes the job's cancel request; a restarted service adopts a job from its folder. With Redis and
a worker: tests/integration/test_service_queue.py."""

from __future__ import annotations

import time

import pytest

from fleet.cancel import cancelled
from fleet.record import read_record
from host.service.executor import CANCELLED, DONE, QUEUED, Submission
from host.service.queue_executor import QueueExecutor
from host.service.request import JobRequest
from shared.job import Job
from shared.lock import write_outcome
from tests.conftest import make_media


@pytest.fixture
def media(tmp_path):
    return make_media(tmp_path / "tone.wav", "-f", "lavfi", "-i", "sine=d=1")


def wait(condition, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def executor(tmp_path, calls) -> QueueExecutor:
    return QueueExecutor(tmp_path / "jobs", tmp_path / "data", lambda j, s, q: calls.append((j, s, q)), "cpu", poll_s=0.05)


def test_a_submission_is_opened_and_enqueued_with_the_requests_options(tmp_path, media):
    calls: list = []
    runner = executor(tmp_path, calls)
    request = JobRequest(language="en", model="tiny.en", skip=("lyrics-detection", "pre-ner", "post-ner"))
    state = runner.submit(Submission("tone-1", media, tuple(request.runner_args())), wait=True)
    assert state.state == QUEUED
    job = Job(tmp_path / "jobs" / "tone-1")
    wait(lambda: "tone-1" in runner._enqueued)  # published, then recorded
    assert calls == [("tone-1", "demux", "demux")]
    record = read_record(job.root)
    assert record.order[-1] == "subtitles"  # --until subtitles
    assert {"diarization", "pyannote-vad", "lyrics-detection", "pre-ner"} <= set(record.skip)
    assert job.config()["asr"] == {"language": "en", "model": "tiny.en", "task": "transcribe"}
    assert runner.submit(Submission("tone-1", media, tuple(request.runner_args())), wait=True) is state  # one run
    assert len(calls) == 1

    for stage in ("demux", "shots", "silero-vad", "asr", "subtitles"):
        (job.root / stage).mkdir(exist_ok=True)
        write_outcome(job.root / stage, {"stage": stage, "status": "ran"})
    assert state.done.wait(10) and state.state == DONE
    runner.close()


def test_cancel_writes_the_request_and_the_state_follows(tmp_path, media):
    calls: list = []
    runner = executor(tmp_path, calls)
    state = runner.submit(Submission("tone-2", media, ("--until", "subtitles")), wait=True)
    wait(lambda: "tone-2" in runner._enqueued)
    runner.release("tone-2")  # its only waiter left: cancelled
    assert cancelled(tmp_path / "jobs" / "tone-2", since=0.0) is not None
    assert state.done.wait(10) and state.state == CANCELLED
    assert runner.cancel("tone-2") is False  # already final
    runner.close()

    restarted = executor(tmp_path, calls)  # a new service reads the job back from its folder
    adopted = restarted.state("tone-2")
    assert adopted is not None and adopted.state == CANCELLED
    again = restarted.submit(Submission("tone-2", media, ("--until", "subtitles")), pin=True)
    assert again is not adopted and again.state == QUEUED  # a cancelled job submitted again runs again
    wait(lambda: "tone-2" in restarted._enqueued and len(calls) == 4)  # demux and pre-ner, twice
    assert cancelled(tmp_path / "jobs" / "tone-2", since=read_record(tmp_path / "jobs" / "tone-2").submitted_at) is None
    restarted.close()


def test_a_bad_submission_fails_with_its_reason(tmp_path):
    runner = executor(tmp_path, [])
    state = runner.submit(Submission("gone-1", tmp_path / "missing.wav", ()), wait=True)
    assert state.done.wait(10) and state.state == "failed"
    assert "missing.wav" in state.error
    runner.close()
