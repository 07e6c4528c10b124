"""The job lifecycle every executor shares: open (create or reopen, plan, stages off) and
finish (outcomes from the stage folders, summary, keep or remove the job)."""

import json

import pytest

from host import lifecycle
from shared import graph
from shared.errors import JobError
from shared.lock import Fingerprint, Lock, write_lock, write_outcome

ORDER = [s.name for s in graph.topological_order()]


# --- plan -------------------------------------------------------------------------------------------


def test_plan_runs_everything_in_graph_order():
    order, forced = lifecycle.plan([], None, None)
    assert order == ORDER
    assert order[0] == "demux" and order[-1] == "mux"
    assert order.index("silero-vad") < order.index("asr") < order.index("subtitles")
    assert forced == set()


def test_from_forces_the_stage_and_everything_after_it():
    _, forced = lifecycle.plan([], "asr", None)
    assert {"asr", "subtitles", "mux"} <= forced
    assert not {"demux", "silero-vad"} & forced


def test_force_all_and_until():
    order, forced = lifecycle.plan(["all"], None, "asr")
    assert order[-1] == "asr" and "subtitles" not in order and "mux" not in order
    assert {"demux", "mux"} <= forced


def test_unknown_stage_in_flags_is_an_error():
    with pytest.raises(JobError):
        lifecycle.plan(["asrr"], None, None)


# --- open ---------------------------------------------------------------------------------------------


@pytest.fixture
def media(tmp_path, monkeypatch):
    for name in ("SKIP_STAGES", "FORCE_STAGES", "TARGET_LANGUAGES", "TMDB_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ASR_MODEL", "tiny.en")  # English-only: no forced track to make, translation has nothing to do
    path = tmp_path / "film.wav"
    path.write_bytes(b"media bytes")
    return path


def test_open_creates_then_reopens_the_job_and_plans_the_run(media, tmp_path, capsys):
    jobs = tmp_path / "jobs"
    run = lifecycle.open_job(media, jobs_dir=jobs, force=["asr"], skip=["diarization", "speakers"])
    assert run.created and run.job.root.parent == jobs
    assert f"job folder: {run.job.root}" in capsys.readouterr().out
    assert run.forced == {"asr"}
    # switched off by the user, and with nothing to do (no TARGET_LANGUAGES: translation and its second pass)
    assert run.skip == {"diarization", "speakers", "translation", "second-pass-translation"}
    assert run.user_skip == {"diarization", "speakers"}
    assert run.to_run == [n for n in ORDER if n not in run.skip]
    again = lifecycle.open_job(media, jobs_dir=jobs)
    assert not again.created and again.job.root == run.job.root


def test_open_reads_skip_and_force_from_the_environment(media, tmp_path, monkeypatch):
    monkeypatch.setenv("SKIP_STAGES", "lyrics-detection")
    monkeypatch.setenv("FORCE_STAGES", "subtitles")
    monkeypatch.setenv("TARGET_LANGUAGES", "en")
    run = lifecycle.open_job(media, jobs_dir=tmp_path / "jobs", until="subtitles")
    assert run.skip == {"lyrics-detection"} and run.forced == {"subtitles"}
    assert run.order[-1] == "subtitles" and "mux" not in run.to_run


def test_a_job_opened_for_nothing_is_removed_again(media, tmp_path):
    jobs = tmp_path / "jobs"
    config = tmp_path / "config.json"
    config.write_text('{"translation": {"beam_size": "wide"}}')  # read when deciding what is switched off
    with pytest.raises(Exception, match="beam_size"):
        lifecycle.open_job(media, jobs_dir=jobs, config=config)
    assert not any(jobs.iterdir())


# --- finish -------------------------------------------------------------------------------------------


def finished_stage(run, name, status="ran", lock=True):
    folder = run.job.stage_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    write_outcome(folder, {"stage": name, "status": status, "reasons": []})
    if lock:
        write_lock(folder, Lock(name, Fingerprint({}, {}, {}, {}, ""), {}, {"wall_s": 1.5, "peak_rss_mb": 20.0}))


def failed_stage(run, name, reason, code=2):
    folder = run.job.stage_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    write_outcome(folder, {"stage": name, "status": "failed", "error": reason, "exit_code": code})


@pytest.fixture
def run(media, tmp_path):
    run = lifecycle.open_job(media, jobs_dir=tmp_path / "jobs", until="asr")
    run.start()
    return run


def test_outcomes_come_from_the_stage_folders(run, capsys):
    finished_stage(run, "demux", "ran")
    finished_stage(run, "silero-vad", "fresh")
    finished_stage(run, "pre-ner", "ran")
    finished_stage(run, "shots", "ran")
    finished_stage(run, "asr", "ran")
    done = lifecycle.finish_job(run, dict.fromkeys(run.to_run, 0), extra={"profile": "cpu"})
    assert done.exit_code == 0 and done.error is None
    statuses = {s["stage"]: s["status"] for s in done.summary["stages"]}
    assert statuses == {"demux": "ran", "silero-vad": "fresh", "pre-ner": "ran", "shots": "ran", "asr": "ran"}
    assert all(s["wall_s"] == 1.5 for s in done.summary["stages"])
    written = json.loads((run.job.root / "summary.json").read_text())
    assert written == done.summary and written["profile"] == "cpu"
    assert "silero-vad  fresh" in capsys.readouterr().out


def test_an_older_runs_outcome_does_not_count(run):
    finished_stage(run, "demux", "ran")
    run.opened_at += 3600  # the records above are now from before this run
    done = lifecycle.finish_job(run, {"demux": 0})
    assert {s["stage"]: s["status"] for s in done.summary["stages"]}["demux"] == "done"


def test_a_failure_keeps_a_job_where_a_stage_used_the_media(run):
    finished_stage(run, "demux")
    failed_stage(run, "silero-vad", "silero-vad: the model exploded", 1)
    done = lifecycle.finish_job(run, {"demux": 0, "silero-vad": 1, "pre-ner": 0},
                                log_of=lambda name: run.job.root / "logs" / f"{name}.log")
    assert done.exit_code == 1 and done.kept
    first, second = done.error.splitlines()
    assert first == "stopped at silero-vad: silero-vad: the model exploded"
    assert f"its log: {run.job.root}/logs/silero-vad.log" in second and "rerun the same command" in second
    statuses = {s["stage"]: s["status"] for s in done.summary["stages"]}
    assert statuses["silero-vad"] == "failed (1)" and statuses["asr"] == "not run"
    assert done.summary["outputs"] == {} and (run.job.root / "summary.json").is_file()


def test_a_failure_before_any_stage_used_the_media_removes_the_job(run):
    finished_stage(run, "pre-ner")  # independent of the media: not worth keeping
    failed_stage(run, "demux", "demux: film.wav is not a media file")
    done = lifecycle.finish_job(run, {"demux": 2, "pre-ner": 0})
    assert done.exit_code == 2 and not done.kept and not run.job.root.exists()
    assert done.error == "stopped at demux: demux: film.wav is not a media file\n" \
                         "  nothing was kept; fix the cause and rerun the same command"


def test_a_reopened_job_is_always_kept(run, media):
    again = lifecycle.open_job(media, jobs_dir=run.job.root.parent)
    done = lifecycle.finish_job(again, {"demux": 2})
    assert done.kept and run.job.root.is_dir() and "exit code 2" in done.error


def test_a_helper_fails_first_and_a_stage_that_never_finished_is_named(run):
    finished_stage(run, "demux")
    done = lifecycle.finish_job(run, {"models": 1, "demux": 0, "asr": None}, reasons={"models": "no space left"})
    assert done.error.startswith("stopped at models: no space left")
    done = lifecycle.finish_job(run, {"demux": 0, "silero-vad": None})
    assert done.error.startswith("stopped at silero-vad: it never started") and done.exit_code == 1


def test_an_interrupt_keeps_what_finished(run):
    finished_stage(run, "demux")
    done = lifecycle.finish_job(run, {"demux": 0}, interrupted=True)
    assert done.exit_code == 130 and done.error.startswith("interrupted; rerun the same command")
