"""mux as users run it, on media made with ffmpeg and a hand-made subtitles folder."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from host.jobs import create_job
from shared import schema
from shared.job import Job
from tests.conftest import make_media, run_stage

SRT = "1\n00:00:00,500 --> 00:00:01,500\nHello <i>there</i>.\n\n2\n00:00:01,800 --> 00:00:02,500\nBonjour, Amélie.\n"
VTT = "WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nHello there.\n\n00:00:01.800 --> 00:00:02.500\nBonjour, Amélie.\n"
ASS = """[Script Info]
ScriptType: v4.00+
PlayResX: 384
PlayResY: 288

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,0,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.50,0:00:01.50,Default,,0,0,0,,Hello there.
Dialogue: 0,0:00:01.80,0:00:02.50,Default,,0,0,0,,Bonjour, Amélie.
"""
CONTENT = {"srt": SRT, "vtt": VTT, "ass": ASS, "txt": "Hello there. Bonjour, Amélie.\n"}
VIDEO = ("-f", "lavfi", "-i", "testsrc=s=64x48:r=10:d=3", "-f", "lavfi", "-i", "sine=f=440:d=3")


def ffprobe_streams(path: Path) -> list[dict]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["streams"]


def subtitle_text(path: Path, position: int) -> str:
    return subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", f"0:s:{position}", "-f", "srt", "-"],
                          capture_output=True, text=True, check=True).stdout


def prepare(media: Path, jobs_dir: Path, files: list[tuple[str, str]], cue_count: int = 2) -> Job:
    """A job whose demux ran and whose subtitles folder holds ``files`` ((language, format) pairs)."""
    job = create_job(media, jobs_dir=jobs_dir)
    proc = run_stage("demux", job.id, jobs_dir)
    assert proc.returncode == 0, proc.stderr
    folder = job.root / "subtitles"
    folder.mkdir()
    listed = []
    for language, fmt in files:
        name = f"{media.stem}.{language}.{fmt}"
        (folder / name).write_text(CONTENT[fmt] if cue_count else "", encoding="utf-8")
        listed.append(schema.SubtitleFile(name, language, fmt))
    schema.write(folder / "manifest.json", schema.SubtitleManifest(tuple(listed), cue_count))
    return job


def mux(job: Job, jobs_dir: Path, *flags: str, **env: str) -> tuple[Path, schema.MuxManifest, dict]:
    proc = run_stage("mux", job.id, jobs_dir, *flags, **env)
    assert proc.returncode == 0, proc.stderr
    manifest = schema.load(job.root / "mux" / "manifest.json", schema.MuxManifest)
    report = json.loads((job.root / "mux" / "lock.json").read_text())["report"]
    return job.root / "mux" / manifest.path, manifest, report


def by_kind(streams: list[dict], kind: str) -> list[dict]:
    return [s for s in streams if s["codec_type"] == kind]


def test_mp4_gets_a_mov_text_track_and_keeps_its_streams(tmp_path, jobs_dir):
    media = make_media(tmp_path / "clip.mp4", *VIDEO, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac")
    job = prepare(media, jobs_dir, [("en", "srt"), ("en", "vtt"), ("en", "txt")])
    out, manifest, report = mux(job, jobs_dir)
    assert out.name == "clip.subtitled.mp4" and manifest.path == "clip.subtitled.mp4"
    streams = ffprobe_streams(out)
    source = ffprobe_streams(media)
    assert [(s["codec_type"], s["codec_name"]) for s in streams] == [
        ("video", "h264"), ("audio", "aac"), ("subtitle", "mov_text")]
    for kind in ("video", "audio"):  # copied, not re-encoded
        mine, theirs = by_kind(streams, kind)[0], by_kind(source, kind)[0]
        assert (mine["codec_name"], mine.get("bit_rate"), mine.get("nb_frames")) == (
            theirs["codec_name"], theirs.get("bit_rate"), theirs.get("nb_frames"))
    assert by_kind(streams, "subtitle")[0]["tags"]["language"] == "eng"
    assert "Bonjour, Amélie." in subtitle_text(out, 0)
    assert manifest.tracks == ({"language": "en", "language_tag": "eng", "format": "srt", "codec": "mov_text",
                                "title": "English", "kind": "transcript", "disposition": "none",
                                "source": "clip.en.srt"},)
    assert report["metrics"]["container"] == "mp4" and report["metrics"]["subtitle_tracks"] == 1


def test_mkv_gets_srt_tracks_per_language_and_keeps_existing_subtitles(tmp_path, jobs_dir):
    existing = tmp_path / "old.srt"
    existing.write_text(SRT)
    media = make_media(tmp_path / "film.mkv", *VIDEO, "-f", "srt", "-i", str(existing), "-map", "0", "-map", "1",
                       "-map", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libopus", "-c:s", "srt",
                       "-metadata:s:s:0", "language=fre")
    job = prepare(media, jobs_dir, [("en", "srt"), ("en", "ass"), ("de", "srt")])
    out, manifest, _ = mux(job, jobs_dir)
    assert out.name == "film.subtitled.mkv"
    subtitles = by_kind(ffprobe_streams(out), "subtitle")
    assert [(s["codec_name"], s["tags"].get("language"), s["tags"].get("title")) for s in subtitles] == [
        ("subrip", "fre", None), ("subrip", "eng", "English"), ("subrip", "ger", "German")]
    assert [s["disposition"]["default"] for s in subtitles[1:]] == [0, 0]  # not switched on by default
    assert [t["language_tag"] for t in manifest.tracks] == ["eng", "ger"]
    assert "Hello <i>there</i>." in subtitle_text(out, 1)


def test_mkv_ass_option_gives_ass_tracks(tmp_path, jobs_dir):
    media = make_media(tmp_path / "film.mkv", *VIDEO, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "flac")
    job = prepare(media, jobs_dir, [("en", "srt"), ("en", "ass")])
    out, manifest, _ = mux(job, jobs_dir, "--mkv-subtitle-format", "ass")
    assert [(s["codec_name"], s["tags"]["language"]) for s in by_kind(ffprobe_streams(out), "subtitle")] == [("ass", "eng")]
    assert manifest.tracks[0]["format"] == "ass" and manifest.tracks[0]["codec"] == "ass"


def test_audio_only_input_becomes_mka_with_a_note(tmp_path, jobs_dir):
    media = make_media(tmp_path / "interview.wav", "-f", "lavfi", "-i", "sine=f=440:d=3", "-c:a", "pcm_s16le")
    job = prepare(media, jobs_dir, [("fr", "srt")])
    out, manifest, report = mux(job, jobs_dir)
    assert out.name == "interview.subtitled.mka"
    streams = ffprobe_streams(out)
    assert [(s["codec_type"], s["codec_name"], s.get("tags", {}).get("language")) for s in streams] == [
        ("audio", "pcm_s16le", None), ("subtitle", "subrip", "fre")]
    assert any(".mka" in note for note in report["notes"])
    assert manifest.tracks[0]["title"] == "French"


def test_empty_subtitles_still_mux(tmp_path, jobs_dir):
    media = make_media(tmp_path / "silence.wav", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "2")
    job = prepare(media, jobs_dir, [("en", "srt")], cue_count=0)
    out, _, report = mux(job, jobs_dir)
    assert [s["codec_type"] for s in ffprobe_streams(out)] == ["audio", "subtitle"]
    assert any("no cues" in note for note in report["notes"])


def test_no_muxable_format_fails_in_one_line(tmp_path, jobs_dir):
    media = make_media(tmp_path / "talk.flac", "-f", "lavfi", "-i", "sine=d=1")
    job = prepare(media, jobs_dir, [("en", "txt")])
    proc = run_stage("mux", job.id, jobs_dir)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: mux: ") and "SUBTITLE_FORMATS" in errors[0]
    assert "Traceback" not in proc.stderr
    assert not (job.root / "mux" / "manifest.json").exists()


def test_run_reports_progress_and_writes_into_the_staging_folder(tmp_path, jobs_dir):
    from shared.options.mux import MuxOptions
    from stages.mux.stage import run

    media = make_media(tmp_path / "clip.mkv", *VIDEO, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "flac")
    job = prepare(media, jobs_dir, [("en", "srt")])
    staging = tmp_path / "staging"
    staging.mkdir()
    inputs = {"media": media, "media_info": job.root / "demux" / "media.json",
              "subtitles": job.root / "subtitles" / "manifest.json"}
    calls = []
    report = run(inputs, {"muxed_media": staging / "manifest.json"}, MuxOptions(),
                 lambda step, done, total=None: calls.append((step, done, total)))
    assert sorted(p.name for p in staging.iterdir()) == ["clip.subtitled.mkv", "manifest.json"]
    assert calls and calls[-1][0] == "muxing" and calls[-1][1] == calls[-1][2] == pytest.approx(3.0, abs=0.05)
    assert report.metrics["streams_copied"] == 2 and report.model["tool"] == "ffmpeg"
