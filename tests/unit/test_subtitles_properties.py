"""Property tests of the whole layout (layout + timing + QC) on random words,
random timings and random profiles: nothing lost, nothing overlapping, no
word split, and every rule a cue breaks is in the QC report."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.options.subtitles import SubtitleOptions
from shared.schema import Segment, Transcript, Word
from stages.subtitles import qc
from stages.subtitles.cues import cue_words, join_words, normalize_text, words_from_transcript
from stages.subtitles.tracks import make_cues

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéü'-日本"
PUNCTUATION = ["", "", "", ",", ".", "?", "!", ";", ":", "—", "...", ".\"", "Dr."]


@st.composite
def profiles(draw) -> SubtitleOptions:
    target = draw(st.floats(3.0, 30.0))
    min_duration = draw(st.integers(0, 2000))
    return SubtitleOptions(
        formats=("srt",),
        max_chars_per_line=draw(st.integers(4, 60)),
        max_lines=draw(st.integers(1, 4)),
        target_chars_per_s=target,
        max_chars_per_s=target + draw(st.floats(0.0, 15.0)),
        min_duration_ms=min_duration,
        max_duration_ms=draw(st.integers(max(1, min_duration), 10000)),
        min_gap_ms=draw(st.integers(0, 300)),
        pause_break_ms=draw(st.integers(0, 2500)),
    )


@st.composite
def word_texts(draw) -> str:
    if draw(st.integers(0, 19)) == 0:  # now and then a word longer than most lines
        return draw(st.text(LETTERS, min_size=15, max_size=70))
    return draw(st.text(LETTERS, min_size=1, max_size=12)) + draw(st.sampled_from(PUNCTUATION))


@st.composite
def transcripts(draw) -> Transcript:
    count = draw(st.integers(0, 60))
    t = draw(st.integers(0, 3000))
    words = []
    for _ in range(count):
        gap = draw(st.one_of(st.sampled_from([0, 20, 80, 150, 400, 600, 1500]), st.integers(-300, 4000)))
        duration = draw(st.one_of(st.sampled_from([0, 100, 250, 400]), st.integers(0, 3000)))
        start = max(0, t + gap) if draw(st.integers(0, 9)) else max(0, t - draw(st.integers(0, 2000)))  # times may go back
        glued = draw(st.integers(0, 9)) == 0
        text = ("" if glued else " ") + draw(word_texts())
        words.append(Word(start / 1000, (start + duration) / 1000, text, draw(st.floats(0.0, 1.0))))
        t = start + duration
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, count - 1)), max_size=4)))) if count > 1 else []
    segments, at = [], 0
    for cut in [*cuts, count]:
        chunk = tuple(words[at:cut])
        if chunk:
            segments.append(Segment(chunk[0].start_s, chunk[-1].end_s, "".join(w.text for w in chunk), chunk))
        at = cut
    audio = draw(st.one_of(st.just(0.0), st.floats(0.0, t / 1000 + 10.0)))
    return Transcript("en", 1.0, audio, tuple(segments))


def expected_rules(cues, k, options) -> set[str]:
    """The rules cue k breaks, worked out here independently of qc.py."""
    cue = cues[k]
    rules = set()
    if any(len(line) > options.max_chars_per_line for line in cue.lines):
        rules.add("max_chars_per_line")
    if len(cue.lines) > options.max_lines:
        rules.add("max_lines")
    chars = len(cue.plain)
    seconds = (cue.end_ms - cue.start_ms) / 1000
    if (chars and seconds <= 0) or (seconds > 0 and chars / seconds > options.max_chars_per_s):
        rules.add("max_chars_per_s")
    if cue.end_ms - cue.start_ms < options.min_duration_ms:
        rules.add("min_duration_ms")
    if cue.end_ms - cue.start_ms > options.max_duration_ms:
        rules.add("max_duration_ms")
    if k and cue.start_ms - cues[k - 1].end_ms < options.min_gap_ms:
        rules.add("min_gap_ms")
    return rules


def _cues(transcript, options):
    words, _ = words_from_transcript(transcript)
    end_limit = round(transcript.audio_duration_s * 1000) or None
    return words, make_cues(words, options, end_limit)


@PROPERTY_SETTINGS
@given(transcripts(), profiles())
def test_every_cue_obeys_the_profile_or_is_reported(transcript, options):
    _, cues = _cues(transcript, options)
    violations = qc.check(cues, options)
    reported: dict[int, set[str]] = {}
    for v in violations:
        reported.setdefault(v.cue, set()).add(v.rule)
        assert v.text == cues[v.cue - 1].text and v.start_ms == cues[v.cue - 1].start_ms
        assert v.limit == getattr(options, v.rule)
    for k in range(len(cues)):
        assert reported.get(k + 1, set()) == expected_rules(cues, k, options), f"cue {k + 1}: {cues[k]}"
    record = qc.report(cues, violations, options)
    assert record["cue_count"] == len(cues) and record["violation_count"] == len(violations)


@PROPERTY_SETTINGS
@given(transcripts(), profiles())
def test_no_word_is_lost_duplicated_or_reordered(transcript, options):
    words, cues = _cues(transcript, options)
    laid = cue_words(cues)
    assert [w.index for w in laid] == list(range(len(words)))
    kept = [normalize_text(w.text) for w in transcript.words if normalize_text(w.text)]
    assert [w.text for w in laid] == kept


@PROPERTY_SETTINGS
@given(transcripts(), profiles())
def test_cues_are_in_order_and_never_overlap(transcript, options):
    _, cues = _cues(transcript, options)
    for k, cue in enumerate(cues):
        assert 0 <= cue.start_ms <= cue.end_ms
        assert cue.start_ms <= cue.words[0].start_ms  # a start may come earlier, never later
        if k + 1 < len(cues):
            assert cue.end_ms <= cues[k + 1].start_ms
            assert cue.end_ms <= cues[k + 1].words[0].start_ms


@PROPERTY_SETTINGS
@given(transcripts(), profiles())
def test_lines_are_whole_words_within_the_profile(transcript, options):
    _, cues = _cues(transcript, options)
    for cue in cues:
        assert all(size >= 1 for size in cue.line_sizes) and sum(cue.line_sizes) == len(cue.words)
        assert len(cue.lines) <= options.max_lines
        at = 0
        for size, line in zip(cue.line_sizes, cue.lines):
            chunk = cue.words[at:at + size]
            assert line == join_words(chunk)
            assert line.startswith(chunk[0].text) and line.endswith(chunk[-1].text)
            if len(line) > options.max_chars_per_line:  # only a word longer than a line, alone in its cue
                assert len(cue.words) == 1
            at += size


@PROPERTY_SETTINGS
@given(transcripts(), profiles())
def test_cues_never_span_a_long_pause_nor_the_maximum_duration(transcript, options):
    _, cues = _cues(transcript, options)
    for cue in cues:
        for before, after in zip(cue.words, cue.words[1:]):
            assert after.start_ms - before.end_ms < options.pause_break_ms
        if len(cue.words) > 1:
            assert max(w.end_ms for w in cue.words) - cue.words[0].start_ms <= options.max_duration_ms
            assert cue.end_ms - cue.start_ms <= max(options.max_duration_ms, 0)
        assert not math.isnan(cue.chars_per_s())
