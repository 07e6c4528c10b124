"""The shared stage executor: freshness by content, atomic publish, no lock on failure."""

import json
import os
import stat
import tempfile

import pytest

from host.jobs import create_job
from shared import graph
from shared import stage as stage_module
from shared.errors import JobError, StageFailed
from shared.fsio import atomic_write_text
from shared.lock import LOCK_FILE, OUTCOME_FILE, STAGING_DIR, read_lock, read_outcome
from shared.options.subtitles import SubtitleOptions
from shared.stage import StageReport
from shared.stage import execute as execute_stage

# the subtitles stage, read as it is without any optional stage (those have their own tests below)
SPEC = __import__("dataclasses").replace(graph.stage("subtitles"), optional_inputs=())


def execute(*args, skip=frozenset(), **kwargs):
    """The executor with post-ner switched off, so the stage reads asr's transcript (refinements: below)."""
    return execute_stage(*args, skip=skip | {"post-ner"}, **kwargs)


@pytest.fixture
def job(tmp_path):
    media = tmp_path / "film.wav"
    media.write_bytes(b"media bytes")
    job = create_job(media, jobs_dir=tmp_path / "jobs")
    (job.root / "asr").mkdir()
    (job.root / "asr" / "transcript.json").write_text('{"v": 1}')
    (job.root / "demux").mkdir()
    (job.root / "demux" / "media.json").write_text('{"m": 1}')
    return job


class FakeRun:
    """Writes its declared outputs plus one extra file; counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, inputs, outputs, options, hook):
        self.calls += 1
        transcript = json.loads(inputs["transcript"].read_text())
        outputs["subtitles"].write_text(json.dumps({"from": transcript, "max": options.max_chars_per_line}))
        outputs["qc_report"].write_text("{}")
        (outputs["subtitles"].parent / "film.en.srt").write_text("1\n")
        return StageReport(metrics={"cues": 1})


def no_model(options):
    return {}


def test_runs_then_is_fresh(job):
    fake = FakeRun()
    first = execute(SPEC, job, SubtitleOptions(), fake, no_model)
    second = execute(SPEC, job, SubtitleOptions(), fake, no_model)
    assert (first.status, second.status, fake.calls) == ("ran", "fresh", 1)
    lock = read_lock(job.stage_dir("subtitles"))
    assert set(lock.outputs) == {"manifest.json", "qc.json", "film.en.srt"}
    assert lock.fingerprint.options["max_chars_per_line"] == 42
    assert lock.report["metrics"] == {"cues": 1}
    assert not (job.stage_dir("subtitles") / STAGING_DIR).exists()


@pytest.mark.parametrize("change", ["input", "option", "output_deleted", "output_edited", "model", "force"])
def test_any_change_makes_it_stale(job, change):
    fake = FakeRun()
    execute(SPEC, job, SubtitleOptions(), fake, no_model)
    options, model_fn, force = SubtitleOptions(), no_model, False
    if change == "input":
        (job.root / "asr" / "transcript.json").write_text('{"v": 2}')
    elif change == "option":
        options = SubtitleOptions(max_chars_per_line=37)
    elif change == "output_deleted":
        (job.stage_dir("subtitles") / "film.en.srt").unlink()
    elif change == "output_edited":
        (job.stage_dir("subtitles") / "qc.json").write_text("{ }")
    elif change == "model":
        model_fn = lambda options: {"revision": "other"}  # noqa: E731
    else:
        force = True
    outcome = execute(SPEC, job, options, fake, model_fn, force=force)
    assert outcome.status == "ran" and fake.calls == 2


def test_touching_an_input_without_changing_it_keeps_it_fresh(job):
    fake = FakeRun()
    execute(SPEC, job, SubtitleOptions(), fake, no_model)
    path = job.root / "asr" / "transcript.json"
    path.write_text(path.read_text())  # new mtime, same content
    assert execute(SPEC, job, SubtitleOptions(), fake, no_model).status == "fresh"


def test_failure_leaves_no_lock_and_no_partial_files(job):
    fake = FakeRun()
    execute(SPEC, job, SubtitleOptions(), fake, no_model)
    before = (job.stage_dir("subtitles") / "manifest.json").read_text()

    def half_then_fail(inputs, outputs, options, hook):
        outputs["subtitles"].write_text("half")
        raise StageFailed("model exploded")

    with pytest.raises(StageFailed):
        execute(SPEC, job, SubtitleOptions(max_lines=1), half_then_fail, no_model)
    stage_dir = job.stage_dir("subtitles")
    assert not (stage_dir / LOCK_FILE).exists()  # not trusted any more: the next run redoes it
    assert not (stage_dir / STAGING_DIR).exists()
    assert (stage_dir / "manifest.json").read_text() == before  # published files never half-written
    assert execute(SPEC, job, SubtitleOptions(), fake, no_model).status == "ran"


def test_missing_declared_output_is_a_failure(job):
    def forgets(inputs, outputs, options, hook):
        outputs["subtitles"].write_text("{}")
        return StageReport()

    with pytest.raises(StageFailed, match="qc_report"):
        execute(SPEC, job, SubtitleOptions(), forgets, no_model)


def test_files_not_remade_are_removed(job):
    fake = FakeRun()
    execute(SPEC, job, SubtitleOptions(), fake, no_model)

    def without_srt(inputs, outputs, options, hook):
        outputs["subtitles"].write_text("{}")
        outputs["qc_report"].write_text("{}")
        return StageReport()

    execute(SPEC, job, SubtitleOptions(max_lines=1), without_srt, no_model)
    assert not (job.stage_dir("subtitles") / "film.en.srt").exists()


def test_missing_input_says_which_stage_to_run(job):
    (job.root / "asr" / "transcript.json").unlink()
    with pytest.raises(JobError, match="run stage asr first"):
        execute(SPEC, job, SubtitleOptions(), FakeRun(), no_model)


def test_optional_input_is_read_unless_its_producer_is_skipped(job):
    import dataclasses

    spec = dataclasses.replace(SPEC, optional_inputs=("speech_regions",))
    with pytest.raises(JobError, match="SKIP_STAGES=silero-vad"):
        execute(spec, job, SubtitleOptions(), FakeRun(), no_model)
    skipped = execute(spec, job, SubtitleOptions(), FakeRun(), no_model, skip=frozenset({"silero-vad"}))
    assert skipped.status == "ran"
    assert "speech_regions" not in read_lock(job.stage_dir("subtitles")).fingerprint.inputs
    (job.root / "silero-vad").mkdir()
    (job.root / "silero-vad" / "speech.json").write_text("{}")
    used = execute(spec, job, SubtitleOptions(), FakeRun(), no_model)
    assert used.status == "ran"  # an input more is a different fingerprint
    assert "speech_regions" in read_lock(job.stage_dir("subtitles")).fingerprint.inputs


def test_a_refinement_is_read_in_place_of_what_it_refines_when_its_stage_runs(job):
    """post-ner's transcript refines asr's: a reader asks for ``transcript`` and gets the better one."""
    seen = []

    def run(inputs, outputs, options, hook):
        seen.append(json.loads(inputs["transcript"].read_text()))
        return FakeRun()(inputs, outputs, options, hook)

    with pytest.raises(JobError, match="run stage post-ner first, or skip it with SKIP_STAGES=post-ner"):
        execute_stage(SPEC, job, SubtitleOptions(), run, no_model)
    (job.root / "post-ner").mkdir()
    (job.root / "post-ner" / "transcript.json").write_text('{"v": "corrected"}')
    execute_stage(SPEC, job, SubtitleOptions(), run, no_model)
    assert seen == [{"v": "corrected"}]
    assert set(read_lock(job.stage_dir("subtitles")).fingerprint.inputs) == {"corrected_transcript", "media_info"}
    execute_stage(SPEC, job, SubtitleOptions(), run, no_model, skip=frozenset({"post-ner"}))
    assert seen[-1] == {"v": 1}
    assert set(read_lock(job.stage_dir("subtitles")).fingerprint.inputs) == {"transcript", "media_info"}


class LibraryRun(FakeRun):
    """Writes like a library (a private mkstemp file renamed into .partial/) and like the
    fsio helpers, so both paths to a published file are checked."""

    def __call__(self, inputs, outputs, options, hook):
        report = super().__call__(inputs, outputs, options, hook)
        fd, tmp = tempfile.mkstemp(dir=outputs["subtitles"].parent)
        os.write(fd, b"WEBVTT\n")
        os.close(fd)
        os.replace(tmp, outputs["subtitles"].parent / "film.en.vtt")
        atomic_write_text(outputs["subtitles"].parent / "film.en.tsv", "start\tend\ttext\n")
        return report


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640)])
def test_published_files_are_readable_as_the_umask_says(job, mask, mode):
    old = os.umask(mask)
    try:
        execute(SPEC, job, SubtitleOptions(), LibraryRun(), no_model)
    finally:
        os.umask(old)
    folder = job.stage_dir("subtitles")
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir() if p.is_file()}
    assert set(modes) == {"manifest.json", "qc.json", "film.en.srt", "film.en.vtt", "film.en.tsv", LOCK_FILE,
                          OUTCOME_FILE}
    assert set(modes.values()) == {mode}, modes


def test_stage_folder_is_fsynced_after_publishing(job, monkeypatch):
    synced = []
    monkeypatch.setattr(stage_module, "fsync_dir", lambda folder: synced.append((folder, sorted(os.listdir(folder)))))
    execute(SPEC, job, SubtitleOptions(), FakeRun(), no_model)
    folder = job.stage_dir("subtitles")
    assert synced == [(folder, [STAGING_DIR, "film.en.srt", "manifest.json", "qc.json"])]  # everything in place, no lock yet


# --- the outcome record the executors read --------------------------------------------------------


def test_every_run_records_its_outcome_beside_the_lock_and_neither_is_an_output(job):
    fake = FakeRun()
    folder = job.stage_dir("subtitles")
    execute(SPEC, job, SubtitleOptions(), fake, no_model)
    ran = read_outcome(folder)
    assert ran["status"] == "ran" and ran["reasons"] == ["never completed"] and ran["wall_s"] >= 0
    assert OUTCOME_FILE not in read_lock(folder).outputs
    execute(SPEC, job, SubtitleOptions(), fake, no_model)
    fresh = read_outcome(folder)
    assert fresh["status"] == "fresh" and fresh["finished_at"] >= ran["finished_at"]
    assert read_outcome(folder, since=fresh["finished_at"] + 60) is None  # an older run's does not count
    assert execute(SPEC, job, SubtitleOptions(), fake, no_model).status == "fresh"  # the record never makes it stale


def test_a_failed_run_leaves_no_older_outcome(job):
    execute(SPEC, job, SubtitleOptions(), FakeRun(), no_model)

    def fails(inputs, outputs, options, hook):
        raise StageFailed("model exploded")

    with pytest.raises(StageFailed):
        execute(SPEC, job, SubtitleOptions(max_lines=1), fails, no_model)
    assert read_outcome(job.stage_dir("subtitles")) is None


ALL_OPTIONAL = ",".join(s.name for s in graph.STAGES if s.skippable)  # subtitles then reads only asr and demux


def test_main_records_the_one_line_reason_of_a_failure(job, monkeypatch, capsys):
    monkeypatch.setenv("SKIP_STAGES", ALL_OPTIONAL)

    def fails(inputs, outputs, options, hook):
        raise StageFailed("the model exploded")

    code = stage_module.main("subtitles", fails, no_model, ["--job", job.id, "--jobs-dir", str(job.root.parent)])
    assert code == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    recorded = read_outcome(job.stage_dir("subtitles"))
    assert recorded["status"] == "failed" and recorded["exit_code"] == 1
    assert line == f"error: {recorded['error']}" and "the model exploded" in line


def test_force_stages_in_the_environment_forces_the_named_stage(job, monkeypatch):
    monkeypatch.setenv("SKIP_STAGES", ALL_OPTIONAL)
    argv = ["--job", job.id, "--jobs-dir", str(job.root.parent)]
    fake = FakeRun()
    assert stage_module.main("subtitles", fake, no_model, argv) == 0
    assert stage_module.main("subtitles", fake, no_model, argv) == 0 and fake.calls == 1
    monkeypatch.setenv("FORCE_STAGES", "asr,subtitles")
    assert stage_module.main("subtitles", fake, no_model, argv) == 0 and fake.calls == 2
    assert read_outcome(job.stage_dir("subtitles"))["reasons"] == ["forced"]
