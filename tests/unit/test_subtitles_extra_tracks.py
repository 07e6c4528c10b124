"""The forced and SDH tracks as the subtitles stage assembles them (stages/subtitles/extra_tracks.py)."""

from __future__ import annotations

import dataclasses

from shared import schema
from shared.options.subtitles import SubtitleOptions
from stages.subtitles import extra_tracks
from stages.subtitles.cues import CueWord


def test_file_labels():
    assert [extra_tracks.file_label("en", k) for k in ("transcript", "forced", "sdh")] == ["en", "en.forced", "en.sdh"]


def test_the_forced_track_holds_only_the_forced_translations_passages(tmp_path):
    record = schema.Translation("en", (schema.TranslatedSegment(30.0, 34.0, "Guten Tag, wie geht es?", "Good day, how are you?",
                                                                "de", "translated"),))
    schema.write(tmp_path / "forced.json", record)
    loaded = extra_tracks.load_forced({"forced_translation": tmp_path / "forced.json"})
    [(language, kind, cues)] = extra_tracks.forced_track(loaded, SubtitleOptions(), 60_000, [])
    assert (language, kind) == ("en", "forced")
    assert [c.text for c in cues] == ["Good day, how are you?"] and 29_500 <= cues[0].start_ms and cues[-1].end_ms <= 34_600
    schema.write(tmp_path / "none.json", schema.Translation("en", ()))
    assert extra_tracks.load_forced({"forced_translation": tmp_path / "none.json"}) is None
    assert extra_tracks.load_forced({}) is None and extra_tracks.forced_track(None, SubtitleOptions(), None, []) == []


def words(*spans: tuple[int, int, str, str]) -> list[CueWord]:
    return [CueWord(k, a, b, text, False, 1.0, text.endswith("."), speaker) for k, (a, b, text, speaker) in enumerate(spans)]


def test_the_sdh_track_labels_speakers_and_adds_the_music_cue_only_with_the_setting():
    spoken = words((0, 400, "Where", "Diane"), (400, 800, "were", "Diane"), (800, 1400, "you?", "Diane"),
                   (1500, 1900, "Out", "Bob"), (1900, 2500, "late.", "Bob"),
                   (3000, 3300, "♪", ""),  # Whisper's note over the music: not dialogue
                   (14_000, 14_500, "Morning.", "Diane"))
    options = dataclasses.replace(SubtitleOptions(), speaker_style="none")
    assert extra_tracks.sdh_track(spoken, "en", options, 20_000, [(3_000, 13_000)]) == []
    [(language, kind, cues)] = extra_tracks.sdh_track(spoken, "en", dataclasses.replace(options, sdh=True), 20_000,
                                                      [(3_000, 13_000)])
    assert (language, kind) == ("en", "sdh")
    texts = [c.text for c in cues]
    assert "[MUSIC]" in texts and not any("♪" in t for t in texts)
    music = cues[texts.index("[MUSIC]")]
    assert music.start_ms >= 2_500 and music.end_ms <= 14_000 - SubtitleOptions().min_gap_ms
    assert any(t.startswith("[Diane]") for t in texts) and any("[Bob]" in t for t in texts)
