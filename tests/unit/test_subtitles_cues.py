"""The cue model: word sanitising, joining, punctuation classes, reading speed."""

from __future__ import annotations

from shared.schema import Segment, Transcript, Word
from stages.subtitles.cues import (
    CLAUSE_END,
    NO_BREAK,
    SEGMENT_END,
    SENTENCE_END,
    Cue,
    CueWord,
    break_class,
    join_words,
    word_break_class,
    words_from_transcript,
)


def transcript(*segments: list[Word]) -> Transcript:
    return Transcript("en", 1.0, 10.0, tuple(Segment(s[0].start_s, s[-1].end_s, "", tuple(s)) for s in segments))


def test_words_are_stripped_indexed_and_marked_at_segment_ends():
    words, dropped = words_from_transcript(transcript(
        [Word(0.0, 0.5, " Hello"), Word(0.5, 1.0, " world.")],
        [Word(1.2, 1.5, "  New   York ", 0.25)],
    ))
    assert dropped == 0
    assert [(w.index, w.start_ms, w.end_ms, w.text) for w in words] == [
        (0, 0, 500, "Hello"), (1, 500, 1000, "world."), (2, 1200, 1500, "New York")]
    assert [w.segment_end for w in words] == [False, True, True]
    assert words[2].probability == 0.25


def test_times_are_sanitised_never_negative_nor_going_back():
    words, _ = words_from_transcript(transcript([
        Word(-0.2, 0.3, " a"), Word(0.9, 0.4, " b"), Word(0.5, 0.6, " c"), Word(0.0004, 0.0, " d")]))
    assert [(w.start_ms, w.end_ms) for w in words] == [(0, 300), (900, 900), (900, 900), (900, 900)]


def test_whitespace_only_words_are_dropped_and_counted():
    words, dropped = words_from_transcript(transcript([Word(0, 1, " a"), Word(1, 2, "  "), Word(2, 3, " b")]))
    assert [w.text for w in words] == ["a", "b"] and [w.index for w in words] == [0, 1]
    assert dropped == 1


def test_glued_words_join_without_a_space():
    words, _ = words_from_transcript(transcript([Word(0, 1, "日本"), Word(1, 2, "語"), Word(2, 3, " ok")]))
    assert [w.glued for w in words] == [False, True, False]
    assert join_words(words) == "日本語 ok"


def test_break_classes():
    assert break_class("end.") == SENTENCE_END
    assert break_class("really?\"") == SENTENCE_END
    assert break_class("wait...") == SENTENCE_END
    assert break_class("終わり。") == SENTENCE_END
    assert break_class("well,") == CLAUSE_END
    assert break_class("so--") == CLAUSE_END
    assert break_class("then—") == CLAUSE_END
    assert break_class("Dr.") == NO_BREAK
    assert break_class("J.") == NO_BREAK
    assert break_class("word") == NO_BREAK
    assert word_break_class(CueWord(0, 0, 1, "word", segment_end=True)) == SEGMENT_END
    assert word_break_class(CueWord(0, 0, 1, "word.", segment_end=True)) == SENTENCE_END


def test_cue_lines_text_and_reading_speed():
    words = tuple(CueWord(k, k * 100, k * 100 + 90, t) for k, t in enumerate(["one", "two", "three"]))
    cue = Cue(0, 1000, words, (2, 1))
    assert cue.lines == ("one two", "three")
    assert cue.text == "one two\nthree"
    assert cue.plain == "one two three" and cue.chars == 13
    assert cue.chars_per_s() == 13.0
    assert Cue(5, 5, words, (3,)).chars_per_s() == float("inf")
    assert cue.retimed(100, 900).duration_ms == 800
