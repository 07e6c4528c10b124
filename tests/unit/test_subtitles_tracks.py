"""Translated tracks and song cues in the subtitles stage (stages/subtitles/tracks.py)."""

from __future__ import annotations

import json

from shared import schema
from shared.options.subtitles import SubtitleOptions
from stages.subtitles import tracks
from stages.subtitles.cues import CueWord
from stages.subtitles.stage import run


def translation(*segments) -> schema.Translation:
    return schema.Translation("es", tuple(schema.TranslatedSegment(a, b, "src", text, "en", "translated")
                                          for a, b, text in segments))


def test_translated_words_share_their_segment_by_length():
    words = tracks.translated_words(translation((1.0, 2.0, "uno dos"), (3.0, 3.0, "tres"), (4.0, 5.0, "  ")))
    assert [(w.text, w.start_ms, w.end_ms, w.segment_end) for w in words] == [
        ("uno", 1000, 1500, False), ("dos", 1500, 2000, True), ("tres", 3000, 3001, True)]
    assert [w.index for w in words] == [0, 1, 2]


def test_song_edges_cut_the_words_into_runs():
    words = [CueWord(k, k * 1000, k * 1000 + 800, f"w{k}") for k in range(6)]
    runs = tracks.runs(words, [(2000, 4000)])
    assert [(r.lyric, [w.text for w in r.words]) for r in runs] == [
        (False, ["w0", "w1"]), (True, ["w2", "w3"]), (False, ["w4", "w5"])]


def test_song_cues_are_marked_narrower_and_never_mixed_with_talk():
    options = SubtitleOptions(max_chars_per_line=20)
    words = [CueWord(k, k * 300, k * 300 + 250, "word") for k in range(12)]  # one phrase, no pause
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


def test_the_stage_without_translations_or_songs_is_unchanged(tmp_path):
    media = schema.MediaInfo("a.mkv", "matroska", 5.0, (), 0, "eng")
    words = tuple(schema.Word(0.5 + k * 0.4, 0.8 + k * 0.4, " w", 0.9) for k in range(5))
    schema.write(tmp_path / "t.json", schema.Transcript("en", 1.0, 5.0, (schema.Segment(0.5, 2.4, " w w w w w", words),)))
    schema.write(tmp_path / "m.json", media)
    (tmp_path / "out").mkdir()
    outputs = {"subtitles": tmp_path / "out" / "manifest.json", "qc_report": tmp_path / "out" / "qc.json"}
    report = run({"transcript": tmp_path / "t.json", "media_info": tmp_path / "m.json"}, outputs, SubtitleOptions())
    manifest = schema.load(outputs["subtitles"], schema.SubtitleManifest)
    assert {f.kind for f in manifest.files} == {"transcript"} and report.metrics["lyric_cues"] == 0
    assert "tracks" not in json.loads(outputs["qc_report"].read_text())
