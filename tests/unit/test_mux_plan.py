"""The mux plan without ffmpeg: container, streams kept, tracks chosen, ffmpeg arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.errors import InputError, StageFailed
from shared.languages import language_name
from shared.schema import MediaInfo, StreamInfo, SubtitleFile, SubtitleManifest
from stages.mux.plan import choose_container, choose_tracks, ffmpeg_args, mkv, mp4, plan_streams, webm
from stages.mux.stage import verify

MP4_FORMAT = "mov,mp4,m4a,3gp,3g2,mj2"
V = StreamInfo(0, "video", "h264", default=True)
A = StreamInfo(1, "audio", "aac", "eng", 2, 48000, default=True)


def info(name: str, container: str, *streams: StreamInfo) -> MediaInfo:
    return MediaInfo(name, container, 10.0, streams or (V, A), 1, "eng")


@pytest.mark.parametrize("name, container, expected, ext", [
    ("a.mp4", MP4_FORMAT, "mp4", "mp4"),
    ("a.M4V", MP4_FORMAT, "mp4", "m4v"),
    ("a.mov", MP4_FORMAT, "mov", "mov"),
    ("a.mkv", "matroska,webm", "matroska", "mkv"),
    ("a.webm", "matroska,webm", "webm", "webm"),
    ("a.avi", "avi", "matroska", "mkv"),
    ("a.ts", "mpegts", "matroska", "mkv"),
    ("a.3gp", MP4_FORMAT, "matroska", "mkv"),
])
def test_video_containers(name, container, expected, ext):
    chosen, notes = choose_container(info(name, container))
    assert (chosen.name, chosen.ext) == (expected, ext)
    assert bool(notes) == (expected == "matroska" and not name.endswith(".mkv"))


@pytest.mark.parametrize("name, container", [("a.wav", "wav"), ("a.flac", "flac"), ("a.m4a", MP4_FORMAT), ("a.mp3", "mp3")])
def test_audio_only_inputs_become_mka(name, container):
    chosen, notes = choose_container(info(name, container, A, StreamInfo(2, "video", "mjpeg")))
    assert (chosen.name, chosen.ext, chosen.muxer, chosen.text_codec) == ("mka", "mka", "matroska", "subrip")
    assert ".mka" in notes[0]


def test_video_container_without_video_stream_is_audio_only():
    assert choose_container(info("a.mp4", MP4_FORMAT, A))[0].name == "mka"


def test_mkv_subtitle_format_option():
    assert choose_container(info("a.mkv", "matroska,webm"), "ass")[0].text_codec == "ass"
    assert choose_container(info("a.mp4", MP4_FORMAT), "ass")[0].text_codec == "mov_text"


def test_streams_kept_dropped_and_converted():
    streams = (V, A, StreamInfo(2, "subtitle", "mov_text", "fre"), StreamInfo(3, "subtitle", "dvd_subtitle"),
               StreamInfo(4, "data", "tmcd"), StreamInfo(5, "attachment", "ttf"))
    kept, notes = plan_streams(info("a.mov", MP4_FORMAT, *streams), webm())
    assert [(k.index, k.encoder) for k in kept] == [(0, ""), (1, ""), (2, "webvtt")]
    assert any("#3" in n for n in notes) and any("#4" in n for n in notes) and any("#5" in n for n in notes)
    assert any("converted" in n and "#2 mov_text" in n for n in notes)
    kept, _ = plan_streams(info("a.mkv", "matroska,webm", *streams), mkv())
    assert [(k.index, k.encoder) for k in kept] == [(0, ""), (1, ""), (2, "srt"), (3, ""), (5, "")]


def test_audio_only_output_leaves_cover_art_out():
    kept, notes = plan_streams(info("a.mp3", "mp3", A, StreamInfo(2, "video", "mjpeg")), choose_container(info("a.mp3", "mp3"))[0])
    assert [k.index for k in kept] == [1]
    assert "cover art" in notes[0]


def manifest(*files: tuple[str, str, str]) -> SubtitleManifest:
    return SubtitleManifest(tuple(SubtitleFile(p, lang, fmt) for p, lang, fmt in files), 3)


def write(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).write_text("x")


def test_one_track_per_language_in_the_best_format(tmp_path):
    write(tmp_path, "f.en.srt", "f.en.vtt", "f.en.ass", "f.de.vtt", "f.en.json")
    files = manifest(("f.en.srt", "en", "srt"), ("f.en.vtt", "en", "vtt"), ("f.en.ass", "en", "ass"),
                     ("f.de.vtt", "de", "vtt"), ("f.en.json", "en", "json"))
    tracks, notes = choose_tracks(files, tmp_path, mp4())
    assert [(t.language, t.tag, t.source_format, t.codec, t.encoder, t.title) for t in tracks] == [
        ("en", "eng", "srt", "mov_text", "mov_text", "English"), ("de", "ger", "vtt", "mov_text", "mov_text", "German")]
    assert notes == ["no SRT file for de: converted the VTT file to mov_text"]
    tracks, _ = choose_tracks(files, tmp_path, mkv("ass"))
    assert [(t.source_format, t.encoder) for t in tracks] == [("ass", "copy"), ("vtt", "ass")]
    tracks, _ = choose_tracks(files, tmp_path, webm())
    assert [(t.source_format, t.encoder) for t in tracks] == [("vtt", "copy"), ("vtt", "copy")]


def test_other_iso639_2_form(tmp_path):
    write(tmp_path, "f.fr.srt", "f.en.srt")
    fr, en = choose_tracks(manifest(("f.fr.srt", "fr", "srt"), ("f.en.srt", "en", "srt")), tmp_path, mp4())[0]
    assert (fr.tag, fr.other_tag_form().tag, fr.other_tag_form().other_tag_form().tag) == ("fre", "fra", "fre")
    assert en.other_tag_form() == en


def test_translation_tracks_are_titled_apart(tmp_path):
    write(tmp_path, "f.en.srt", "f.fr.srt")
    files = SubtitleManifest((SubtitleFile("f.en.srt", "en", "srt"), SubtitleFile("f.fr.srt", "fr", "srt", "translation")), 1)
    assert [t.title for t in choose_tracks(files, tmp_path, mkv())[0]] == ["English", "French (translation)"]


def test_no_text_subtitle_format_is_an_input_error(tmp_path):
    write(tmp_path, "f.en.json")
    with pytest.raises(InputError, match="SUBTITLE_FORMATS"):
        choose_tracks(manifest(("f.en.json", "en", "json")), tmp_path, mp4())


@pytest.mark.parametrize("listed", ["missing.srt", "../outside.srt"])
def test_missing_or_escaping_files_fail(tmp_path, listed):
    folder = tmp_path / "subtitles"
    folder.mkdir()
    (tmp_path / "outside.srt").write_text("x")
    with pytest.raises(StageFailed, match="rerun the subtitles stage"):
        choose_tracks(manifest((listed, "en", "srt")), folder, mkv())


def test_ffmpeg_arguments(tmp_path):
    write(tmp_path, "f.en.srt", "f.de.srt")
    streams = (V, A, StreamInfo(2, "subtitle", "subrip", "fre"), StreamInfo(3, "data", "tmcd"))
    container = mkv()
    kept, _ = plan_streams(info("f.mkv", "matroska,webm", *streams), container)
    tracks, _ = choose_tracks(manifest(("f.en.srt", "en", "srt"), ("f.de.srt", "de", "srt")), tmp_path, container)
    args = ffmpeg_args(Path("/in/f 1.mkv"), Path("/out/f 1.subtitled.mkv"), container, kept, tracks)
    text = " ".join(args)
    assert args[:2] == ["-i", "/in/f 1.mkv"]
    assert f"-f srt -i {tmp_path}/f.en.srt -f srt -i {tmp_path}/f.de.srt" in text
    assert "-map 0:0 -map 0:1 -map 0:2 -map 1:0 -map 2:0 -c copy" in text and "0:3" not in text
    assert "-c:s:1 copy -metadata:s:s:1 language=eng -metadata:s:s:1 title=English -disposition:s:1 0" in text
    assert "-c:s:2 copy -metadata:s:s:2 language=ger" in text and "-c:s:0" not in text
    assert args[-4:] == ["-f", "matroska", "-y", "/out/f 1.subtitled.mkv"]


def fake_probe(*subs: tuple[str, str | None]) -> list[dict]:
    streams = [{"codec_type": "video", "codec_name": "h264"}, {"codec_type": "audio", "codec_name": "aac"}]
    return streams + [{"codec_type": "subtitle", "codec_name": c, "tags": {"language": lang} if lang else {}} for c, lang in subs]


def test_verify_checks_count_codec_and_language(tmp_path):
    write(tmp_path, "f.de.srt")
    kept, _ = plan_streams(info("f.mp4", MP4_FORMAT), mp4())
    tracks, _ = choose_tracks(manifest(("f.de.srt", "de", "srt")), tmp_path, mp4())
    verify(fake_probe(("mov_text", "ger")), kept, tracks, "out.mp4")
    verify(fake_probe(("mov_text", "deu")), kept, tracks, "out.mp4")  # ISO 639-2/T reads back the same
    with pytest.raises(StageFailed, match="0 subtitle stream"):
        verify(fake_probe(), kept, tracks, "out.mp4")
    with pytest.raises(StageFailed, match="tagged"):
        verify(fake_probe(("mov_text", None)), kept, tracks, "out.mp4")
    with pytest.raises(StageFailed, match="expected mov_text"):
        verify(fake_probe(("subrip", "ger")), kept, tracks, "out.mp4")
    with pytest.raises(StageFailed, match="audio"):
        verify(fake_probe(("mov_text", "ger"))[:1] + fake_probe(("mov_text", "ger"))[2:], kept, tracks, "out.mp4")


def test_language_names():
    assert [language_name(c) for c in ("en", "eng", "de", "ger", "deu", "", "und", "xx")] == [
        "English", "English", "German", "German", "German", "Subtitles", "Subtitles", "xx"]


def test_retag_only_tracks_whose_language_was_dropped(tmp_path):
    from stages.mux.stage import retag_dropped_languages

    write(tmp_path, "f.fr.srt", "f.de.srt", "f.xx.srt")
    tracks, _ = choose_tracks(manifest(("f.fr.srt", "fr", "srt"), ("f.de.srt", "de", "srt"), ("f.xx.srt", "", "srt")),
                              tmp_path, mp4())
    streams = fake_probe(("mov_text", None), ("mov_text", "ger"), ("mov_text", None))
    assert [t.tag for t in retag_dropped_languages(streams, tracks)] == ["fra", "ger", "und"]


def test_forced_and_sdh_tracks_get_their_disposition_and_title(tmp_path):
    write(tmp_path, "f.en.srt", "f.en.forced.srt", "f.en.sdh.srt")
    files = SubtitleManifest((SubtitleFile("f.en.srt", "en", "srt"), SubtitleFile("f.en.forced.srt", "en", "srt", "forced"),
                              SubtitleFile("f.en.sdh.srt", "en", "srt", "sdh")), 1)
    tracks, _ = choose_tracks(files, tmp_path, mkv())
    assert [(t.title, t.tag, t.disposition) for t in tracks] == [
        ("English", "eng", "0"), ("English (forced)", "eng", "forced"), ("English (SDH)", "eng", "hearing_impaired")]
    text = " ".join(ffmpeg_args(Path("/in/f.mkv"), Path("/out/f.mkv"), mkv(), [], tracks))
    assert "-disposition:s:0 0 " in text and "-disposition:s:1 forced " in text
    assert "title=English (SDH) -disposition:s:2 hearing_impaired" in text
