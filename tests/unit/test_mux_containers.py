"""mux on the other containers: WebM, MOV with a timecode track, M4V, AVI, MP3 with cover art."""

from __future__ import annotations

import pytest

from tests.conftest import make_media
from tests.unit.test_mux_stage import VIDEO, by_kind, ffprobe_streams, mux, prepare, subtitle_text


def test_webm_gets_webvtt(tmp_path, jobs_dir):
    media = make_media(tmp_path / "clip.webm", *VIDEO, "-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus")
    job = prepare(media, jobs_dir, [("en", "srt"), ("en", "vtt")])
    out, manifest, _ = mux(job, jobs_dir)
    assert out.name == "clip.subtitled.webm"
    streams = ffprobe_streams(out)
    assert [(s["codec_type"], s["codec_name"]) for s in streams] == [
        ("video", "vp8"), ("audio", "opus"), ("subtitle", "webvtt")]
    assert by_kind(streams, "subtitle")[0]["tags"]["language"] == "eng"
    assert manifest.tracks[0]["format"] == "vtt"


def test_mov_keeps_existing_mov_text_and_the_timecode_track(tmp_path, jobs_dir):
    existing = tmp_path / "old.srt"
    existing.write_text("1\n00:00:00,000 --> 00:00:01,000\nAncien.\n")
    media = make_media(tmp_path / "take.mov", *VIDEO, "-f", "srt", "-i", str(existing), "-map", "0", "-map", "1",
                       "-map", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-c:s", "mov_text",
                       "-metadata:s:s:0", "language=spa", "-timecode", "01:00:00:00")
    assert [s["codec_type"] for s in ffprobe_streams(media)][-1] == "data"
    job = prepare(media, jobs_dir, [("fr", "srt")])  # MOV keeps French only as "fra", not "fre"
    out, manifest, report = mux(job, jobs_dir)
    assert out.name == "take.subtitled.mov"
    streams = ffprobe_streams(out)
    assert [s["codec_type"] for s in streams] == ["video", "audio", "subtitle", "data", "subtitle"]
    assert [s["tags"]["language"] for s in by_kind(streams, "subtitle")] == ["spa", "fra"]
    assert by_kind(streams, "data")[0]["codec_tag_string"] == "tmcd"
    assert "Ancien." in subtitle_text(out, 0) and "Hello" in subtitle_text(out, 1)
    assert manifest.tracks[0]["language_tag"] == "fra" and manifest.tracks[0]["title"] == "French"
    assert not report["notes"]


def test_mov_timecode_track_into_mkv_is_left_out_with_a_note(tmp_path, jobs_dir):
    media = make_media(tmp_path / "take.mov", *VIDEO, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                       "-timecode", "01:00:00:00")
    job = prepare(media, jobs_dir, [("en", "srt")])
    (job.root / "demux" / "media.json").write_text(
        (job.root / "demux" / "media.json").read_text().replace('"take.mov"', '"take.mts"'))  # a container mux turns into MKV
    out, _, report = mux(job, jobs_dir)
    assert out.name == "take.subtitled.mkv"
    assert [s["codec_type"] for s in ffprobe_streams(out)] == ["video", "audio", "subtitle"]
    assert any("data (tmcd)" in note for note in report["notes"])


def test_m4v_stays_m4v(tmp_path, jobs_dir):
    media = make_media(tmp_path / "episode.m4v", *VIDEO, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-f", "mp4")
    job = prepare(media, jobs_dir, [("de", "srt")])
    out, _, _ = mux(job, jobs_dir)
    assert out.name == "episode.subtitled.m4v"
    assert [(s["codec_name"], s["tags"]["language"]) for s in by_kind(ffprobe_streams(out), "subtitle")] == [("mov_text", "ger")]


def test_avi_becomes_mkv_with_the_same_streams(tmp_path, jobs_dir):
    media = make_media(tmp_path / "old film.avi", *VIDEO, "-c:v", "mpeg4", "-c:a", "libmp3lame")
    job = prepare(media, jobs_dir, [("en", "srt")])
    out, _, report = mux(job, jobs_dir)
    assert out.name == "old film.subtitled.mkv"
    assert [(s["codec_type"], s["codec_name"]) for s in ffprobe_streams(out)] == [
        ("video", "mpeg4"), ("audio", "mp3"), ("subtitle", "subrip")]
    assert any(".mkv" in note for note in report["notes"])


@pytest.mark.parametrize("ass", [False, True])
def test_mp3_with_cover_art_becomes_mka_without_the_picture(tmp_path, jobs_dir, ass):
    cover = make_media(tmp_path / "cover.png", "-f", "lavfi", "-i", "color=c=blue:s=32x32", "-frames:v", "1")
    media = make_media(tmp_path / "song.mp3", "-f", "lavfi", "-i", "sine=d=3", "-i", str(cover), "-map", "0", "-map", "1",
                       "-c:a", "libmp3lame", "-c:v", "png", "-disposition:v", "attached_pic")
    job = prepare(media, jobs_dir, [("en", "srt"), ("en", "ass")])
    out, _, report = mux(job, jobs_dir, *(["--mkv-subtitle-format", "ass"] if ass else []))
    assert out.name == "song.subtitled.mka"
    assert [(s["codec_type"], s["codec_name"]) for s in ffprobe_streams(out)] == [
        ("audio", "mp3"), ("subtitle", "ass" if ass else "subrip")]
    assert any("cover art" in note for note in report["notes"])
