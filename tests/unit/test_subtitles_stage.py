"""The subtitles stage: run() on files, and the stage run as users run it."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pysubs2
import pytest

from host.jobs import create_job
from shared import graph, schema
from shared.errors import InputError
from shared.job import Job
from shared.options.subtitles import SubtitleOptions
from shared.schema import MediaInfo, Segment, StreamInfo, SubtitleManifest, Transcript, Word
from stages.subtitles.stage import NO_SPEECH_NOTE, model_identity, run
from tests.conftest import run_stage

# subtitles alone: the optional stages whose outputs it would read are switched off
ALONE = {"SKIP_STAGES": ",".join(s.name for s in graph.STAGES if s.skippable)}

MEDIA = MediaInfo("Movie Night.mkv", "matroska,webm", 12.0, (StreamInfo(0, "audio", "aac", "eng", 2, 48000),), 0, "eng")


def spoken(text: str, start_s: float, step_s: float = 0.35, dur_s: float = 0.3) -> Segment:
    words = tuple(Word(round(start_s + k * step_s, 3), round(start_s + k * step_s + dur_s, 3), " " + w, 0.9)
                  for k, w in enumerate(text.split()))
    return Segment(words[0].start_s, words[-1].end_s, " " + text, words)


SPEECH = Transcript("en", 0.99, 12.0, (
    spoken("Good morning.", 1.0),
    spoken("Did you sleep well?", 2.0),
    spoken("I made coffee and toast for both of us, but you slept so long that it all went cold.", 4.0),
))
SILENCE = Transcript("en", 0.0, 12.0, ())
ALL_FORMATS = ("srt", "vtt", "ass", "json", "txt", "tsv")


def write_inputs(folder: Path, transcript: Transcript) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    schema.write(folder / "transcript.json", transcript)
    schema.write(folder / "media.json", MEDIA)
    return {"transcript": folder / "transcript.json", "media_info": folder / "media.json"}


def outputs_in(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {"subtitles": folder / "manifest.json", "qc_report": folder / "qc.json"}


def test_model_identity_is_empty():
    assert model_identity(SubtitleOptions()) == {}


def test_run_writes_every_format_the_manifest_and_the_qc_report(tmp_path):
    inputs, outputs = write_inputs(tmp_path / "in", SPEECH), outputs_in(tmp_path / "out")
    calls = []
    report = run(inputs, outputs, SubtitleOptions(), lambda step, done, total=None: calls.append(step))
    manifest = schema.load(outputs["subtitles"], SubtitleManifest)
    assert manifest.cue_count == 4
    assert [(f.path, f.format, f.language) for f in manifest.files] == [
        (f"Movie Night.en.{fmt}", fmt, "en") for fmt in ALL_FORMATS] + [("qc.csv", "csv", "en")]
    assert manifest.files[-1].kind == "qc"
    for f in manifest.files:
        assert (tmp_path / "out" / f.path).is_file()
    assert len(pysubs2.load(str(tmp_path / "out" / "Movie Night.en.srt"))) == 4
    qc = json.loads(outputs["qc_report"].read_text())
    assert qc["cue_count"] == 4 and qc["violations"] == []
    assert report.metrics["cues"] == 4 and report.metrics["qc_violations"] == 0
    assert report.model == {} and report.notes == []
    assert "layout" in calls and "writing" in calls


def test_the_qc_report_is_also_a_csv_in_subtitle_edits_netflix_check_layout(tmp_path):
    babble = " ".join(["astonishing"] * 80)
    fast = Transcript("en", 1.0, 12.0, (spoken(babble, 0.0, 0.1, 0.09),))
    inputs, outputs = write_inputs(tmp_path / "in", fast), outputs_in(tmp_path / "out")
    run(inputs, outputs, SubtitleOptions(formats=("srt",)), lambda *a: None)
    qc = json.loads(outputs["qc_report"].read_text())
    with open(tmp_path / "out" / "qc.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["LineNumber", "TimeCode", "Context", "Comment"]
    assert len(rows) - 1 == qc["violation_count"] > 0
    first = qc["violations"][0]
    assert rows[1][0] == str(first["cue"]) and re.fullmatch(r"\d\d:\d\d:\d\d,\d\d\d", rows[1][1])
    assert "astonishing" in rows[1][2] and "\n" not in rows[1][2] and rows[1][3]


def test_violations_are_counted_and_noted(tmp_path):
    babble = " ".join(["astonishing"] * 80)  # 12 chars every 100 ms: no cue can be read in time
    fast = Transcript("en", 1.0, 12.0, (spoken(babble, 0.0, 0.1, 0.09),))
    inputs, outputs = write_inputs(tmp_path / "in", fast), outputs_in(tmp_path / "out")
    report = run(inputs, outputs, SubtitleOptions(formats=("srt",)), lambda *a: None)
    qc = json.loads(outputs["qc_report"].read_text())
    assert report.metrics["qc_violations"] == qc["violation_count"] > 0
    assert qc["violations"][0]["rule"] == "max_chars_per_s"
    assert "qc.json" in report.notes[0]


def test_unknown_format_names_the_valid_ones(tmp_path):
    inputs, outputs = write_inputs(tmp_path / "in", SPEECH), outputs_in(tmp_path / "out")
    with pytest.raises(InputError, match="unknown subtitle format.*sub.*valid formats: srt, vtt, ass, json, txt, tsv"):
        run(inputs, outputs, SubtitleOptions(formats=("srt", "sub")))


def test_an_impossible_profile_is_refused(tmp_path):
    inputs, outputs = write_inputs(tmp_path / "in", SPEECH), outputs_in(tmp_path / "out")
    with pytest.raises(InputError, match="max_lines"):
        run(inputs, outputs, SubtitleOptions(max_lines=0))
    with pytest.raises(InputError, match="max_duration_ms"):
        run(inputs, outputs, SubtitleOptions(min_duration_ms=8000, max_duration_ms=7000))


def test_no_speech_gives_valid_empty_files(tmp_path):
    inputs, outputs = write_inputs(tmp_path / "in", SILENCE), outputs_in(tmp_path / "out")
    report = run(inputs, outputs, SubtitleOptions())
    assert report.notes == [NO_SPEECH_NOTE] and report.metrics["cues"] == 0
    manifest = schema.load(outputs["subtitles"], SubtitleManifest)
    assert manifest.cue_count == 0 and len(manifest.files) == 7  # six formats and qc.csv
    folder = tmp_path / "out"
    assert (folder / "Movie Night.en.srt").read_text() == ""
    assert (folder / "Movie Night.en.vtt").read_text().startswith("WEBVTT")
    assert json.loads((folder / "Movie Night.en.json").read_text())["cues"] == []
    assert json.loads(outputs["qc_report"].read_text())["cue_count"] == 0


# --- the stage as users run it -----------------------------------------------------------------


def make_job(tmp_path: Path, jobs_dir: Path, transcript: Transcript) -> Job:
    media = tmp_path / "Movie Night.mkv"
    media.write_bytes(b"any small file stands in for the media here")
    job = create_job(media, jobs_dir=jobs_dir)
    schema.write(job.root / "demux" / "media.json", MEDIA)
    schema.write(job.root / "asr" / "transcript.json", transcript)
    return job


def test_stage_runs_from_the_command_line(tmp_path, jobs_dir):
    job = make_job(tmp_path, jobs_dir, SPEECH)
    done = run_stage("subtitles", job.id, jobs_dir, **ALONE)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["status"] == "ran"
    folder = job.root / "subtitles"
    manifest = schema.load(folder / "manifest.json", SubtitleManifest)
    assert manifest.cue_count == 4
    assert sorted(f.path for f in manifest.files) == sorted([f"Movie Night.en.{fmt}" for fmt in ALL_FORMATS] + ["qc.csv"])
    assert all((folder / f.path).is_file() for f in manifest.files)
    assert (folder / "Movie Night.en.srt").read_text().startswith("1\n00:00:01,000 --> 00:00:01,833\nGood morning.\n")
    assert json.loads((folder / "qc.json").read_text())["cue_count"] == 4
    lock = json.loads((folder / "lock.json").read_text())
    assert lock["report"]["metrics"]["cues"] == 4 and lock["model"] == {}
    assert "pysubs2" in lock["packages"]

    again = run_stage("subtitles", job.id, jobs_dir, **ALONE)
    assert again.returncode == 0 and json.loads(again.stdout.strip().splitlines()[-1])["status"] == "fresh"

    fewer = run_stage("subtitles", job.id, jobs_dir, SUBTITLE_FORMATS="srt,vtt", **ALONE)
    assert fewer.returncode == 0, fewer.stderr
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == [
        "Movie Night.en.srt", "Movie Night.en.vtt", "lock.json", "manifest.json", "outcome.json", "qc.csv", "qc.json"]


def test_stage_refuses_an_unknown_format_in_one_line(tmp_path, jobs_dir):
    job = make_job(tmp_path, jobs_dir, SPEECH)
    done = run_stage("subtitles", job.id, jobs_dir, "--formats", "srt,dfxp", **ALONE)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: subtitles: unknown subtitle format(s) dfxp; valid formats: srt")
    assert "Traceback" not in done.stderr
    assert not (job.root / "subtitles" / "manifest.json").exists()


def test_stage_with_no_speech_notes_it(tmp_path, jobs_dir):
    job = make_job(tmp_path, jobs_dir, SILENCE)
    done = run_stage("subtitles", job.id, jobs_dir, **ALONE)
    assert done.returncode == 0, done.stderr
    lock = json.loads((job.root / "subtitles" / "lock.json").read_text())
    assert lock["report"]["notes"] == [NO_SPEECH_NOTE]
    assert schema.load(job.root / "subtitles" / "manifest.json", SubtitleManifest).cue_count == 0
    assert NO_SPEECH_NOTE in done.stderr
