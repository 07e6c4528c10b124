"""Translated tracks and song cues in the subtitles stage (stages/subtitles/tracks.py)."""

from __future__ import annotations

import json

import pytest

from shared import schema
from shared.options.subtitles import SubtitleOptions
from stages.subtitles import tracks
from stages.subtitles.cues import CueWord, words_from_transcript
from stages.subtitles.stage import run


def translation(*segments) -> schema.Translation:
    return schema.Translation("es", tuple(schema.TranslatedSegment(a, b, "src", text, "en", "translated")
                                          for a, b, text in segments))


def test_translated_words_share_their_segment_by_length():
    words = tracks.translated_words(translation((1.0, 2.0, "uno dos"), (3.0, 3.0, "tres"), (4.0, 5.0, "  ")))
    assert [(w.text, w.start_ms, w.end_ms, w.segment_end) for w in words] == [
        ("uno", 1000, 1500, False), ("dos", 1500, 2000, True), ("tres", 3000, 3001, True)]
    assert [w.index for w in words] == [0, 1, 2]


def test_song_edges_snap_to_phrases_and_cut_the_words_into_runs():
    # three phrases (Whisper segments) of two words; the region misses the start of the second
    words = [CueWord(k, k * 1000, k * 1000 + 800, f"w{k}", segment_end=k % 2 == 1) for k in range(6)]
    runs = tracks.runs(words, [(2500, 3900)])
    assert [(r.lyric, [w.text for w in r.words]) for r in runs] == [
        (False, ["w0", "w1"]), (True, ["w2", "w3"]), (False, ["w4", "w5"])]


def test_song_cues_are_marked_narrower_and_never_mixed_with_talk():
    options = SubtitleOptions(max_chars_per_line=20)
    # one phrase of talk ending on a full stop, then one sung phrase; no pause between them
    words = [CueWord(k, k * 300, k * 300 + 250, "word." if k == 5 else "word") for k in range(12)]
    plain = tracks.make_cues(words, options, 10000)
    assert not any(c.lyric for c in plain)
    cues = tracks.make_cues(words, options, 10000, [(1800, 10000)])
    assert [c.lyric for c in cues] == sorted(c.lyric for c in cues)  # talk, then song
    for cue in cues:
        in_song = [w.start_ms >= 1800 for w in cue.words]
        assert all(in_song) == cue.lyric and any(in_song) == cue.lyric
        if cue.lyric:
            assert all(len(line) <= 20 - tracks.LYRIC_MARK_CHARS for line in cue.lines)
    assert all(a.end_ms <= b.start_ms for a, b in zip(cues, cues[1:]))


# Talk, a song of three lines, talk; each line is a Whisper segment (times in s).
SONG_FILM = (
    (0.0, 2.0, "Where were you last night?"), (2.5, 4.5, "I was out, I told you."),
    (6.0, 9.0, "Under the silver moon I wait for you"), (9.5, 12.5, "every star is shining just for me"),
    (13.0, 16.0, "and the river sings the whole night through"),
    (17.5, 19.5, "Sit down, the soup is warm."), (20.0, 22.0, "We can talk after dinner."),
)
SUNG = SONG_FILM[2:5]


def song_transcript() -> schema.Transcript:
    segments = []
    for a, b, text in SONG_FILM:
        tokens = text.split()
        step = (b - a) / len(tokens)
        segments.append(schema.Segment(a, b, " " + text, tuple(
            schema.Word(a + k * step, a + (k + 1) * step, " " + t, 0.9) for k, t in enumerate(tokens))))
    return schema.Transcript("en", 1.0, 23.0, tuple(segments))


@pytest.mark.parametrize("region_ms", [
    (7200, 15200),  # found late (inside "moon") and ended early (inside "whole"): the song's edges were missed
    (5500, 18000),  # found early and ended late, running into the talk after it
    (6000, 16000),  # exactly the song
], ids=["short", "long", "exact"])
def test_a_song_is_marked_whole_and_nothing_around_it(region_ms):
    words, _ = words_from_transcript(song_transcript())
    cues = tracks.make_cues(words, SubtitleOptions(), 23000, [region_ms])
    sung = {w for a, b, _ in SUNG for w in range(len(words)) if a * 1000 <= words[w].start_ms < b * 1000}
    for cue in cues:
        inside = [w.index in sung for w in cue.words]
        assert all(inside) or not any(inside), cue.text  # never talk and song in one cue
        assert cue.lyric == all(inside), cue.text
    assert {w.index for c in cues if c.lyric for w in c.words} == sung


def test_the_first_line_of_a_song_is_marked_in_the_files(tmp_path):
    schema.write(tmp_path / "t.json", song_transcript())
    schema.write(tmp_path / "m.json", schema.MediaInfo("film.mkv", "matroska", 23.0, (), 0, "eng"))
    schema.write(tmp_path / "l.json", schema.LyricRegions((schema.LyricRegion(7.2, 15.2, 0.9, 0.9),), 23.0))
    (tmp_path / "out").mkdir()
    outputs = {"subtitles": tmp_path / "out" / "manifest.json", "qc_report": tmp_path / "out" / "qc.json"}
    run({"transcript": tmp_path / "t.json", "media_info": tmp_path / "m.json", "lyrics": tmp_path / "l.json"},
        outputs, SubtitleOptions(formats=("srt",)))
    srt = (tmp_path / "out" / "film.en.srt").read_text()
    assert "\u266a Under the silver" in srt and "\u266a Where" not in srt and "\u266a Sit" not in srt


def test_the_stage_without_translations_or_songs_is_unchanged(tmp_path):
    media = schema.MediaInfo("a.mkv", "matroska", 5.0, (), 0, "eng")
    words = tuple(schema.Word(0.5 + k * 0.4, 0.8 + k * 0.4, " w", 0.9) for k in range(5))
    schema.write(tmp_path / "t.json", schema.Transcript("en", 1.0, 5.0, (schema.Segment(0.5, 2.4, " w w w w w", words),)))
    schema.write(tmp_path / "m.json", media)
    (tmp_path / "out").mkdir()
    outputs = {"subtitles": tmp_path / "out" / "manifest.json", "qc_report": tmp_path / "out" / "qc.json"}
    report = run({"transcript": tmp_path / "t.json", "media_info": tmp_path / "m.json"}, outputs, SubtitleOptions())
    manifest = schema.load(outputs["subtitles"], schema.SubtitleManifest)
    assert {f.kind for f in manifest.files} == {"transcript", "qc"} and report.metrics["lyric_cues"] == 0
    assert "tracks" not in json.loads(outputs["qc_report"].read_text())
