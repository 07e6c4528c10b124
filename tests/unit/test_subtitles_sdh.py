"""The SDH rules (stages/subtitles/sdh.py): tag words, what counts as dialogue, where music cues go."""

from __future__ import annotations

import pytest

from shared.errors import InputError
from shared.options.subtitles import SubtitleOptions
from stages.subtitles import sdh
from stages.subtitles.cues import Cue, CueWord


def cue(start_ms: int, end_ms: int, text: str = "words") -> Cue:
    return Cue(start_ms, end_ms, (CueWord(0, start_ms, end_ms, text),), (1,))


def test_tag_words_per_language_and_overridden_by_the_setting():
    assert sdh.tags_for("en", "") == {"music": "[MUSIC]"}
    assert sdh.tags_for("de", "") == {"music": "[MUSIK]"}
    assert sdh.tags_for("ja", "") == {"music": "♪"}  # no row: the note
    assert sdh.tags_for("en", " music=[SOFT MUSIC] ") == {"music": "[SOFT MUSIC]"}
    with pytest.raises(InputError, match="SUBTITLE_SDH_TAGS"):
        sdh.tags_for("en", "noise=[BANG]")


def test_whispers_notes_and_bracketed_tags_are_not_dialogue():
    words = [CueWord(k, k, k + 1, t) for k, t in enumerate(["♪", "[Music]", "(upbeat", "Hello", "-", "world.", "♪♪"])]
    assert [w.text for w in sdh.dialogue(words)] == ["(upbeat", "Hello", "world."]


def test_a_music_cue_goes_where_music_plays_without_dialogue_and_never_over_it():
    options = SubtitleOptions()
    dialogue = [cue(0, 10_800), cue(21_700, 31_500)]
    music = sdh.music_cues(dialogue, [(11_000, 21_000)], "[MUSIC]", 2000, options)
    assert [(c.start_ms, c.end_ms, c.text) for c in music] == [(11_000, 18_000, "[MUSIC]")]  # at most max_duration_ms
    # music under speech: none; music that outlasts the speech by less than the minimum: none
    assert sdh.music_cues(dialogue, [(1_000, 9_000), (21_000, 22_500)], "[MUSIC]", 2000, options) == []
    # a song region with a dialogue cue in the middle: a cue on each side long enough
    around = sdh.music_cues([cue(5_000, 6_000)], [(0, 12_000)], "♪", 2000, options)
    assert [(c.start_ms, c.end_ms) for c in around] == [(0, 4_917), (6_083, 12_000)]
    assert sdh.music_cues([], [(0, 60_000)], "♪", 2000, options, end_limit_ms=1_500) == []


def test_the_music_cues_are_merged_into_the_dialogue_in_time_order():
    merged = sdh.with_music([cue(0, 1000), cue(5000, 6000)], [cue(2000, 4000, "[MUSIC]")])
    assert [c.text for c in merged] == ["words", "[MUSIC]", "words"]
