"""Words to cues: where each cue starts and ends, by dynamic programming.

A pause of at least ``pause_break_ms`` between two words always ends a cue.
Between pauses, every way of cutting the words into cues that fit the
profile's hard limits (lines x characters, duration) is scored, and the
cheapest is kept. Breaks cost least after a sentence end (a sentence ending
inside a cue costs a little), then after clause punctuation or a Whisper
segment end, then anywhere else, less the longer the silence there, more
after a word that leads into the next or inside a name (phrases.py); a cue
that would read faster than the cap, even stretched into the silence after
it, costs a lot; a cue that cannot last the minimum costs a little. A word
longer than a line is never split: it becomes a cue of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.options.subtitles import SubtitleOptions
from shared.progress import ProgressHook, no_progress
from stages.subtitles.cues import CLAUSE_END, NO_BREAK, SEGMENT_END, SENTENCE_END, Cue, CueWord, word_break_class
from stages.subtitles.linebreak import break_lines
from stages.subtitles.phrases import split_costs

# Costs, relative to one another (lower is better).
CUE_COST = 2.0  # every cue: prefer fewer, fuller cues when nothing else decides
BREAK_COST = {SENTENCE_END: 0.0, CLAUSE_END: 8.0, SEGMENT_END: 14.0, NO_BREAK: 30.0}
PAUSE_BONUS = 20.0  # taken off a break's cost in proportion to the silence there (up to pause_break_ms)
# Without forced alignment, Whisper's word times hide a pause inside the word after it
# ("ask" lasting 1.7 s after "my fellow Americans"): what a word lasts beyond
# DRAWN_OUT_FACTOR times a generous spoken length counts as silence before it, for the
# pause bonus only (it never forces a break).
SPOKEN_MS_PER_CHAR = 90
SPOKEN_MS_BASE = 150
DRAWN_OUT_FACTOR = 2.0
GLUED_BREAK_COST = 40.0  # cutting between words Whisper wrote without a space
PHRASE_SPLIT_WEIGHT = 12.0  # times phrases.split_costs: a cue ending on "my" or inside "New Jersey"
SENTENCE_INSIDE_COST = 3.0  # each sentence that ends inside a cue rather than at its end
SENTENCE_STRADDLE_COST = 6.0  # a sentence ends inside the cue and the next one runs on into the next cue
OVER_TARGET_COST = 10.0  # reading speed between target and cap, scaled over that range
OVER_CAP_COST = 200.0  # reading speed above the cap, plus OVER_CAP_SLOPE per char/s over
OVER_CAP_SLOPE = 20.0
SHORT_COST = 5.0  # a cue that cannot last min_duration_ms, scaled by how short it is

PROGRESS_EVERY = 2000  # words between progress calls


def layout(
    words: Sequence[CueWord],
    options: SubtitleOptions,
    end_limit_ms: int | None = None,
    hook: ProgressHook = no_progress,
    language: str = "",
    lead_chars: int = 0,
) -> list[Cue]:
    """Cues with the natural times of their words (first start, latest end) and
    their lines. ``end_limit_ms`` is where the media ends, if known; ``language``
    (of the words) chooses the words a cue or line should not end on;
    ``lead_chars`` are shown before the first cue's words (a ``[Name] `` label)
    and count in its reading speed, as QC counts them."""
    n = len(words)
    if n == 0:
        return []
    classes = [word_break_class(w) for w in words]
    splits = split_costs(words, language)
    pauses = pauses_before(words)
    inf = float("inf")
    best = [inf] * (n + 1)
    back = [-1] * (n + 1)
    best[0] = 0.0
    max_chars = options.max_chars_per_line
    for i in range(n):
        if i % PROGRESS_EVERY == 0:
            hook("layout", i, n)
        if best[i] == inf:  # cannot happen: a single word is always a cue
            continue
        line_len = 0
        line_count = 0
        chars = lead_chars if i == 0 else 0
        latest_end = 0
        sentences_inside = 0
        for j in range(i, n):
            word = words[j]
            if j > i and words[j].start_ms - words[j - 1].end_ms >= options.pause_break_ms:
                break  # a long pause always ends a cue
            too_long = len(word.text) > max_chars
            if too_long and j > i:
                break  # an over-long word stands alone
            sep = 1 if j > i and not word.glued else 0
            chars += sep + len(word.text)
            if line_count and line_len + sep + len(word.text) <= max_chars:
                line_len += sep + len(word.text)
            else:
                line_count += 1
                line_len = len(word.text)
            if line_count > options.max_lines and j > i:
                break
            latest_end = max(latest_end, word.end_ms)
            if j > i and latest_end - words[i].start_ms > options.max_duration_ms:
                break
            cost = best[i] + _cue_cost(words, classes, splits, pauses, i, j, chars, latest_end, sentences_inside,
                                       options, end_limit_ms)
            if cost < best[j + 1]:
                best[j + 1] = cost
                back[j + 1] = i
            if too_long:
                break
            if classes[j] == SENTENCE_END:
                sentences_inside += 1
    hook("layout", n, n)
    spans = []
    end = n
    while end > 0:
        start = back[end]
        spans.append((start, end))
        end = start
    spans.reverse()
    cues = []
    for start, end in spans:
        chunk = tuple(words[start:end])
        sizes = break_lines(chunk, max_chars, options.max_lines, language)
        cues.append(Cue(chunk[0].start_ms, max(w.end_ms for w in chunk), chunk, sizes))
    return cues


def pauses_before(words: Sequence[CueWord]) -> list[int]:
    """For each word, the silence (ms) before it: the gap after the previous word, or the
    part of the word itself that lasts far longer than it could be spoken (see above)."""
    out = [0] * len(words)
    for k in range(1, len(words)):
        word = words[k]
        gap = word.start_ms - words[k - 1].end_ms
        spoken_ms = SPOKEN_MS_BASE + SPOKEN_MS_PER_CHAR * len(word.text)
        hidden = (word.end_ms - word.start_ms) - DRAWN_OUT_FACTOR * spoken_ms
        out[k] = max(gap, int(hidden))
    return out


def _cue_cost(
    words: Sequence[CueWord],
    classes: Sequence[int],
    splits: Sequence[float],
    pauses: Sequence[int],
    i: int,
    j: int,
    chars: int,
    latest_end: int,
    sentences_inside: int,
    options: SubtitleOptions,
    end_limit_ms: int | None,
) -> float:
    """The cost of a cue made of words[i..j] (inclusive), including the break after it."""
    cost = CUE_COST + SENTENCE_INSIDE_COST * sentences_inside
    start = words[i].start_ms
    last = j == len(words) - 1
    if not last:
        following = words[j + 1]
        silence = following.start_ms - words[j].end_ms
        if silence < options.pause_break_ms:  # a long pause is a forced break: free
            brk = BREAK_COST[classes[j]]
            pause = pauses[j + 1]  # the silence, or the pause hidden in the next word if longer
            if options.pause_break_ms > 0 and pause > 0:
                brk -= PAUSE_BONUS * min(1.0, pause / options.pause_break_ms)
            if following.glued:
                brk += GLUED_BREAK_COST
            brk += PHRASE_SPLIT_WEIGHT * splits[j]
            cost += max(0.0, brk)
        if sentences_inside and classes[j] != SENTENCE_END:
            cost += SENTENCE_STRADDLE_COST
        room_end = following.start_ms - options.min_gap_ms
    else:
        room_end = end_limit_ms if end_limit_ms is not None else start + options.max_duration_ms
    # the longest this cue can be shown: into the silence after it, within max duration
    available = max(latest_end - start, min(room_end, start + options.max_duration_ms) - start)
    if available <= 0:
        speed = float("inf") if chars else 0.0
    else:
        speed = chars * 1000.0 / available
    if speed > options.max_chars_per_s:
        over = speed - options.max_chars_per_s
        cost += OVER_CAP_COST + OVER_CAP_SLOPE * min(over, 100.0)
    elif speed > options.target_chars_per_s:
        span = options.max_chars_per_s - options.target_chars_per_s
        cost += OVER_TARGET_COST * ((speed - options.target_chars_per_s) / span if span > 0 else 1.0)
    if options.min_duration_ms > 0 and available < options.min_duration_ms:
        cost += SHORT_COST * (1.0 - max(0, available) / options.min_duration_ms)
    return cost
