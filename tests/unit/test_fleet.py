"""The queue executor without a broker: queue names from the graph, the shared readiness rule,
what is enqueued when (a real job folder, a publish that records), a delivery that finds the job
locked. The real broker and workers: tests/integration/test_fleet.py."""

from __future__ import annotations

import pytest

from fleet import work
from fleet.dispatch import enqueue_ready
from fleet.queues import all_queues, parse_queue, queue_of, queues, queues_of_stage
from fleet.record import StageRecord, new_record, read_record, write_record
from host.jobs import create_job
from shared import graph, joblock
from shared.fsio import atomic_write_json, read_json
from shared.lock import write_outcome
from tests.conftest import make_media


def test_one_queue_per_stage_and_device_class():
    for spec in graph.STAGES:
        if spec.device == "cuda-or-cpu":
            assert queues_of_stage(spec.name) == (f"{spec.name}.cpu", f"{spec.name}.gpu")
        else:
            assert queues_of_stage(spec.name) == (spec.name,)
    assert queue_of("asr", "gpu") == "asr.gpu" and queue_of("subtitles", "gpu") == "subtitles"
    assert len(set(all_queues())) == len(all_queues())
    assert [parse_queue(q)[0] for q in queues("cpu")] == [s.name for s in graph.topological_order()]
    assert parse_queue("diarization.gpu") == ("diarization", "gpu")
    with pytest.raises(ValueError, match="unknown queue"):
        parse_queue("asr")  # a GPU stage has no queue without its device class


def test_ready_is_the_runners_rule():
    order = [s.name for s in graph.topological_order()]
    assert graph.ready(order, done=set()) == ["demux", "pre-ner"]
    assert graph.ready(order, done={"demux"}, started={"pre-ner"}) == ["shots", "silero-vad"]
    # diarization may read pyannote-vad's regions: ready beside asr only once pyannote-vad is done (or off)
    after_vad = {"demux", "pre-ner", "silero-vad"}
    assert "diarization" not in graph.ready(order, after_vad)
    assert {"asr", "diarization"} <= set(graph.ready(order, after_vad | {"pyannote-vad"}))
    # a stage outside the run (--until) is not waited for
    assert graph.ready(["demux", "silero-vad", "asr"], {"demux", "silero-vad"}) == ["asr"]


@pytest.fixture
def job(tmp_path):
    media = make_media(tmp_path / "tone.wav", "-f", "lavfi", "-i", "sine=d=1")
    return create_job(media, jobs_dir=tmp_path / "jobs")


def published(calls):
    return lambda job_id, stage, queue: calls.append((job_id, stage, queue))


def test_enqueue_ready_follows_outcomes_and_never_enqueues_twice(job):
    order = ["demux", "silero-vad", "asr", "subtitles", "mux"]
    record = new_record("gpu", order, skip=[], forced=[])
    calls: list = []
    assert enqueue_ready(job, record, published(calls)) == ["demux"]
    assert enqueue_ready(job, record, published(calls)) == []  # already enqueued
    (job.root / "demux").mkdir()
    write_outcome(job.root / "demux", {"stage": "demux", "status": "ran"})
    assert enqueue_ready(job, record, published(calls)) == ["silero-vad"]
    assert calls == [(job.id, "demux", "demux"), (job.id, "silero-vad", "silero-vad")]
    assert set(read_record(job.root).stages) == {"demux", "silero-vad"}  # written as it goes


def test_an_outcome_older_than_the_submission_does_not_count(job):
    (job.root / "demux").mkdir()
    atomic_write_json(job.root / "demux" / "outcome.json", {"stage": "demux", "status": "ran", "finished_at": 1.0})
    record = new_record("cpu", ["demux", "silero-vad"], skip=[], forced=[])
    record.stages["demux"] = StageRecord("demux", record.submitted_at)
    calls: list = []
    assert enqueue_ready(job, record, published(calls)) == []  # demux has not finished in this submission


def test_nothing_is_enqueued_after_a_failure(job):
    record = new_record("cpu", ["demux", "pre-ner"], skip=[], forced=[])
    record.failed = {"stage": "demux", "reason": "demux: no audio stream"}
    assert enqueue_ready(job, record, published([])) == []


def test_a_delivery_requeues_while_another_process_holds_the_job_lock(job, monkeypatch):
    monkeypatch.setattr(work, "LOCK_WAIT_S", 0.3)
    record = new_record("cpu", ["demux"], skip=[], forced=[])
    enqueue_ready(job, record, published([]))
    with joblock.acquire(job.root):
        assert work.run_delivery(job.id, "demux", published([]), job.root.parent) == work.LOCKED
    assert read_record(job.root).stages["demux"].deliveries == 0  # it never started


def test_a_task_this_submission_did_not_enqueue_is_ignored(job):
    write_record(job.root, new_record("cpu", ["demux", "silero-vad"], skip=[], forced=[]))
    assert work.run_delivery(job.id, "silero-vad", published([]), job.root.parent) == work.IGNORED


def test_status_reads_each_stage_from_the_record_and_the_outcomes(job):
    from host.queue.status import format_status, job_status

    record = new_record("cpu", ["demux", "silero-vad", "asr", "pre-ner", "subtitles"], skip=["pre-ner"], forced=[])
    record.stages = {"demux": StageRecord("demux", record.submitted_at, record.submitted_at, "w:1", 1, 0),
                     "silero-vad": StageRecord("silero-vad", record.submitted_at, record.submitted_at + 1, "w:2", 2),
                     "asr": StageRecord("asr.cpu", record.submitted_at)}
    write_record(job.root, record)
    (job.root / "demux").mkdir()
    write_outcome(job.root / "demux", {"stage": "demux", "status": "ran", "wall_s": 1.5})
    status = job_status(job)
    states = {row["stage"]: row["state"] for row in status["stages"]}
    assert states == {"demux": "done", "silero-vad": "running", "asr": "queued", "pre-ner": "skipped", "subtitles": "waiting"}
    assert status["state"] == "running" and status["stages"][0]["wall_s"] == 1.5
    assert "x2" in format_status(status)  # silero-vad's second delivery

    record.failed = {"stage": "silero-vad", "reason": "silero-vad: the audio is unreadable"}
    write_record(job.root, record)
    status = job_status(job)
    assert status["state"] == "failed" and status["error"] == "silero-vad: the audio is unreadable"
    assert [r["state"] for r in status["stages"] if r["stage"] == "silero-vad"] == ["failed"]


def test_the_delivery_that_ends_a_job_writes_its_summary_in_the_native_format(job):
    """A real demux stage, run by the worker: the job's summary.json appears only when the last
    stage of the submission is done, with the keys and the stage row the native runner writes."""
    from shared.summary import SUMMARY_FILE, summarize

    record = new_record("cpu", ["demux", "pre-ner"], skip=["pre-ner"], forced=[])
    assert enqueue_ready(job, record, published([])) == ["demux"]
    assert work.run_delivery(job.id, "demux", published([]), job.root.parent) == work.DONE
    summary = read_json(job.root / SUMMARY_FILE)
    native = summarize(job, ["demux", "pre-ner"], {"demux": {"status": "ran"}, "pre-ner": {"status": "skipped"}}, 1.0)
    assert set(summary) == set(native) | {"executor", "profile"}
    assert summary["executor"] == "queue" and summary["job"] == job.id and summary["profile"] == "cpu"
    assert [(s["stage"], s["status"]) for s in summary["stages"]] == [("demux", "ran"), ("pre-ner", "skipped")]
    assert summary["stages"][0]["wall_s"] > 0  # from demux's lock
    assert summary["duration_s"] == pytest.approx(1.0, abs=0.05)
    assert 0 < summary["wall_s"] < 120


def test_no_summary_before_the_last_stage_and_one_naming_the_failure(tmp_path):
    """A job whose next stage is still to run has no summary; a stage that fails (a video with no
    audio) ends its job with a summary naming it and its reason, and no outputs."""
    from shared.summary import SUMMARY_FILE

    good = create_job(make_media(tmp_path / "tone.wav", "-f", "lavfi", "-i", "sine=d=1"), jobs_dir=tmp_path / "jobs")
    record = new_record("cpu", ["demux", "silero-vad"], skip=[], forced=[])
    enqueue_ready(good, record, published([]))
    assert work.run_delivery(good.id, "demux", published([]), good.root.parent) == work.DONE
    assert not (good.root / SUMMARY_FILE).exists()  # silero-vad is enqueued, not done

    mute = create_job(make_media(tmp_path / "mute.mp4", "-f", "lavfi", "-i", "color=c=red:s=64x64:d=1",
                                 "-c:v", "libx264", "-preset", "ultrafast"), jobs_dir=tmp_path / "jobs")
    record = new_record("cpu", ["demux", "silero-vad"], skip=[], forced=[])
    enqueue_ready(mute, record, published([]))
    assert work.run_delivery(mute.id, "demux", published([]), mute.root.parent) == work.FAILED
    summary = read_json(mute.root / SUMMARY_FILE)
    rows = {s["stage"]: s["status"] for s in summary["stages"]}
    assert rows["demux"].startswith("failed (") and rows["silero-vad"] == "not run"
    assert "audio" in summary["error"] and summary["error"] == read_record(mute.root).failed["reason"]
    assert summary["outputs"] == {}


def test_an_input_outside_the_workers_media_folder_is_refused_before_anything_is_submitted(tmp_path, capsys):
    """The workers see only MEDIA_DIR (mounted at its host path): a file elsewhere, a path that
    climbs out with "..", or a symlink inside that leads out is refused with one line naming
    MEDIA_DIR, and no job is created (the check runs before the broker is reached)."""
    from host.queue.__main__ import main
    from host.queue.submit import outside_media_dir

    films, elsewhere = tmp_path / "films", tmp_path / "elsewhere"
    films.mkdir()
    elsewhere.mkdir()
    inside = make_media(films / "a.wav", "-f", "lavfi", "-i", "sine=d=1")
    outside = make_media(elsewhere / "b.wav", "-f", "lavfi", "-i", "sine=d=1")
    (films / "link.wav").symlink_to(outside)
    assert outside_media_dir(inside, films) is None
    assert outside_media_dir(films / ".." / "films" / "a.wav", films) is None
    for bad in (outside, films / ".." / "elsewhere" / "b.wav", films / "link.wav"):
        assert "not inside MEDIA_DIR" in (outside_media_dir(bad, films) or ""), bad

    jobs = tmp_path / "jobs"
    code = main(["--jobs-dir", str(jobs), "submit", "--media-dir", str(films), str(inside), str(outside)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [f"error: {outside} is not inside MEDIA_DIR ({films}), the only folder the workers see: "
                   "move it there, or make fleet-up again with MEDIA_DIR=<its folder>"]
    assert not jobs.exists()  # nothing was submitted, not even the good input


def test_submit_as_root_hands_jobs_to_the_workers_user_by_the_fleets_rule(tmp_path, capsys, monkeypatch):
    """``--owner=auto`` (make submit as root) takes the user make fleet-up runs the workers as
    (host/containers/jobs.py ``container_user``); a root one is refused in one line, before any
    job is made."""
    from host.queue.__main__ import main

    films = tmp_path / "films"
    films.mkdir()
    media = make_media(films / "a.wav", "-f", "lavfi", "-i", "sine=d=1")
    monkeypatch.setenv("PIPELINE_UID", "0")
    code = main(["--jobs-dir", str(tmp_path / "jobs"), "submit", "--owner=auto", "--media-dir", str(films), str(media)])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: PIPELINE_UID/PIPELINE_GID 0: stage containers never run as root; give another uid"]
    assert not (tmp_path / "jobs").exists()
