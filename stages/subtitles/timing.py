"""Cue timing: from the words' natural times to times a viewer can read.

Cue by cue, in order:

1. the end never passes the next cue's first word (no overlap);
2. the end is extended into the following silence toward the longer of
   ``min_duration_ms`` and the time the text needs at ``target_chars_per_s``
   (never beyond ``max_duration_ms``, nor past where the media ends), and
   trimmed to leave ``min_gap_ms`` before the next cue;
3. a cue still shorter than ``min_duration_ms`` starts earlier, into the
   silence before it (never before 0, never closer than ``min_gap_ms`` to the
   previous cue);
4. trimming for the gap never leaves a cue shorter than both its spoken
   duration and the minimum: there the gap gives way (and QC reports it).

Then every cue still over ``max_chars_per_s`` takes the time the rules
allow, in this order, and only what it needs to read at the cap:

5. its end moves later into the gap after it, down to ``min_gap_ms`` before
   the next cue and up to ``max_duration_ms``;
6. its start moves earlier into the silence before it: never more than
   ``max_lead_in_ms`` before its first word, never closer than ``min_gap_ms``
   to the previous cue, never so far that it lasts over ``max_duration_ms``;
7. where that is not enough, the previous cue gives back time it was given
   beyond its own needs (its last word's end, ``min_duration_ms``, and its
   text at the cap), and the start moves earlier into it.

Then, with ``resplit`` on, every cue still over the cap tries to shed words:

8. its last words (up to ``RESPLIT_MAX_WORDS``) move to the start of the cue
   after it, or its first words to the end of the cue before it, or it takes
   the first words of the cue after it or the last of the cue before (a slow
   word, or one with a pause after it, brings more time than characters); never
   between two speakers, a song and talk, or out of a dialogue cue; or it is
   split in two at a word boundary; every cue made keeps layout's hard limits
   (lines, a word longer than a line alone, no long pause, longest duration); each way is laid out (lines) and timed again by
   steps 1-7, and the one kept is the one that leaves the fewest cues over the
   cap, provided it leaves fewer than before, puts no word of a cue that read
   fine into a cue over the cap (a neighbour is never made too fast), and
   breaks no other rule of QC more often than before (lines, line length,
   durations, gaps, overlaps).

What is still over the cap is reported by QC.

Starts never move later, so cues stay in time order and never overlap.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence

from shared.options.subtitles import SubtitleOptions
from stages.subtitles import qc
from stages.subtitles.cues import Cue, CueWord
from stages.subtitles.linebreak import break_lines
from stages.subtitles.shots import ShotGrid, snap


def wanted_duration_ms(cue: Cue, options: SubtitleOptions) -> int:
    """How long the cue should show: enough to read at the target speed, at
    least the minimum, at most the maximum."""
    reading = math.ceil(cue.chars * 1000.0 / options.target_chars_per_s) if options.target_chars_per_s > 0 else 0
    return min(max(options.min_duration_ms, reading), options.max_duration_ms)


RESPLIT_MAX_WORDS = 3  # words a cue may hand to a neighbour in one move (step 8)


def retime(cues: Sequence[Cue], options: SubtitleOptions, end_limit_ms: int | None = None,
           grid: ShotGrid | None = None, language: str = "") -> list[Cue]:
    """Cues with their final times (see the module docstring); with ``grid`` (the video's
    shot changes) on frames and snapped to cuts last (stages/subtitles/shots.py).
    ``language`` (of the words) chooses line breaks of re-split cues."""
    timed = _retime(cues, options, end_limit_ms)
    if options.resplit:
        timed = resplit(list(cues), timed, options, end_limit_ms, language)
    if grid is not None:
        timed = snap(timed, grid, options, end_limit_ms)
    return timed


def _retime(cues: Sequence[Cue], options: SubtitleOptions, end_limit_ms: int | None,
            before: Cue | None = None, after: tuple[int, int] | None = None) -> list[Cue]:
    """Steps 1-7 of the module docstring. On a stretch of a longer list (step 8), ``before``
    is the timed cue before it (left as it is) and ``after`` the natural and timed starts of
    the cue after it."""
    out: list[Cue] = []
    gap = options.min_gap_ms
    for k, cue in enumerate(cues):
        start = cue.start_ms
        next_start = cues[k + 1].start_ms if k + 1 < len(cues) else (after[0] if after else None)
        end = cue.end_ms if next_start is None else min(cue.end_ms, next_start)  # 1. no overlap
        spoken = end - start
        if next_start is not None:
            latest = next_start - gap
        elif end_limit_ms is not None:
            latest = max(end, end_limit_ms)
        else:
            latest = math.inf
        end = int(min(max(end, start + wanted_duration_ms(cue, options)), latest))  # 2. extend, trim for the gap
        end = max(end, start)
        earliest = out[-1].end_ms + gap if out else (before.end_ms + gap if before else 0)
        if end - start < options.min_duration_ms and earliest < start:  # 3. start earlier into the silence
            start = max(earliest, min(start, end - options.min_duration_ms))
        floor = min(spoken, options.min_duration_ms)
        if end - start < floor:  # 4. the gap gives way
            end = start + floor
            if next_start is not None:
                end = min(end, next_start)
        out.append(cue.retimed(start, end))
    return _ease_reading_speed(out, options, end_limit_ms, before, after[1] if after else None)


def _needed_ms(cue: Cue, chars_per_s: float) -> int:
    return math.ceil(cue.chars * 1000.0 / chars_per_s)


def _ease_reading_speed(cues: list[Cue], options: SubtitleOptions, end_limit_ms: int | None,
                        before: Cue | None = None, next_start_ms: int | None = None) -> list[Cue]:
    """Steps 5-7 of the module docstring on cues with their final times (``before``, ``next_start_ms``:
    the cues around a stretch, see :func:`_retime`)."""
    cap, gap = options.max_chars_per_s, options.min_gap_ms
    for k, cue in enumerate(cues):
        if cue.chars_per_s() <= cap:
            continue
        need = _needed_ms(cue, cap)
        start, end = cue.start_ms, cue.end_ms
        if k + 1 < len(cues):  # 5. into the gap after
            latest: float = cues[k + 1].start_ms - gap
        elif next_start_ms is not None:
            latest = next_start_ms - gap
        else:
            latest = max(end, end_limit_ms) if end_limit_ms is not None else math.inf
        end = max(end, int(min(latest, start + options.max_duration_ms, start + need)))
        want = end - need
        if want >= start:
            cues[k] = cue.retimed(start, end)
            continue
        floor = max(0, cue.words[0].start_ms - options.max_lead_in_ms, end - options.max_duration_ms)
        after_previous = cues[k - 1].end_ms + gap if k else (before.end_ms + gap if before else 0)
        if k and max(want, floor) < after_previous:  # 7. the previous cue gives back what it does not need
            previous = cues[k - 1]
            keep = previous.end_ms if previous.chars_per_s() > cap else max(
                max(w.end_ms for w in previous.words), previous.start_ms + options.min_duration_ms,
                previous.start_ms + _needed_ms(previous, cap))
            new_end = max(keep, max(want, floor) - gap)
            if new_end < previous.end_ms:
                cues[k - 1] = previous.retimed(previous.start_ms, new_end)
                after_previous = new_end + gap
        start = min(start, max(want, floor, after_previous))  # 6. into the silence before
        cues[k] = cue.retimed(start, end)
    return cues


# --- step 8: re-split -------------------------------------------------------------------------


def _over(cue: Cue, options: SubtitleOptions) -> bool:
    return cue.chars_per_s() > options.max_chars_per_s


def _natural(words: Sequence[CueWord], like: Cue, options: SubtitleOptions, language: str,
             prefixes: tuple[str, ...]) -> Cue:
    """A cue of ``words`` with their natural times, lines broken, the song mark of ``like``
    and ``prefixes`` (a label stays on the first line of its speaker's turn)."""
    narrow = options.max_chars_per_line - (len(prefixes[0]) if prefixes else 0)
    sizes = break_lines(words, max(1, narrow), options.max_lines, language)
    return Cue(words[0].start_ms, max(w.end_ms for w in words), tuple(words), sizes, like.lyric, prefixes[:len(sizes)])


def _fits(cue: Cue, options: SubtitleOptions) -> bool:
    """Layout's hard limits (stages/subtitles/layout.py): lines of the profile, a word longer than
    a line alone, no long pause inside, within the longest duration."""
    words = cue.words
    if len(words) == 1:
        return True
    if any(len(w.text) > options.max_chars_per_line for w in words) or len(cue.line_sizes) > options.max_lines:
        return False
    if any(len(line) > options.max_chars_per_line for line in cue.lines):
        return False
    if any(b.start_ms - a.end_ms >= options.pause_break_ms for a, b in zip(words, words[1:])):
        return False
    return max(w.end_ms for w in words) - words[0].start_ms <= options.max_duration_ms


def _joinable(a: Cue, b: Cue) -> bool:
    """Whether words may move between neighbouring cues ``a`` and ``b``: one speaker, both sung
    or both spoken, neither a two-speaker dialogue cue."""
    speakers_a, speakers_b = a.speakers, b.speakers
    return (a.lyric == b.lyric and len(speakers_a) <= 1 and len(speakers_b) <= 1 and speakers_a == speakers_b
            and len(a.line_prefixes) <= 1 and len(b.line_prefixes) <= 1)


def _moves(cues: Sequence[Cue], k: int, options: SubtitleOptions, language: str) -> Iterator[list[Cue]]:
    """Cue lists with cue ``k``'s words shared out another way (step 8)."""
    cue = cues[k]
    words = list(cue.words)
    n = len(words)
    label = cue.line_prefixes[:1]
    if k + 1 < len(cues) and _joinable(cue, cues[k + 1]):
        nxt = cues[k + 1]
        for m in range(1, min(RESPLIT_MAX_WORDS, n - 1) + 1):
            yield [*cues[:k], _natural(words[:-m], cue, options, language, label),
                   _natural([*words[-m:], *nxt.words], nxt, options, language, nxt.line_prefixes[:1]), *cues[k + 2:]]
    if k and _joinable(cues[k - 1], cue) and not label:
        prev = cues[k - 1]
        for m in range(1, min(RESPLIT_MAX_WORDS, n - 1) + 1):
            yield [*cues[:k - 1], _natural([*prev.words, *words[:m]], prev, options, language, prev.line_prefixes[:1]),
                   _natural(words[m:], cue, options, language, ()), *cues[k + 1:]]
    if k + 1 < len(cues) and _joinable(cue, cues[k + 1]) and not cues[k + 1].line_prefixes:
        nxt = list(cues[k + 1].words)  # it takes the first words of the cue after (a slow word, a pause after it)
        for m in range(1, min(RESPLIT_MAX_WORDS, len(nxt) - 1) + 1):
            yield [*cues[:k], _natural([*words, *nxt[:m]], cue, options, language, label),
                   _natural(nxt[m:], cues[k + 1], options, language, ()), *cues[k + 2:]]
    if k and _joinable(cues[k - 1], cue) and not label:
        prev = cues[k - 1]
        before = list(prev.words)  # it takes the last words of the cue before
        for m in range(1, min(RESPLIT_MAX_WORDS, len(before) - 1) + 1):
            yield [*cues[:k - 1], _natural(before[:-m], prev, options, language, prev.line_prefixes[:1]),
                   _natural([*before[-m:], *words], cue, options, language, ()), *cues[k + 1:]]
    if len(cue.line_prefixes) <= 1:
        for m in range(1, n):
            yield [*cues[:k], _natural(words[:m], cue, options, language, label),
                   _natural(words[m:], cue, options, language, ()), *cues[k + 1:]]


WINDOW = 3  # cues on each side of a re-split that are timed again to judge it


def _stretch_counts(timed: Sequence[Cue], lo: int, hi: int, stretch: Sequence[Cue], options: SubtitleOptions,
                    ) -> tuple[Counter[str], list[Cue]]:
    """QC counts of ``stretch`` standing in for ``timed[lo:hi]`` (with the gaps on both sides),
    and the stretch's cues over the cap."""
    counts: Counter[str] = Counter()
    previous = timed[lo - 1] if lo else None
    for number, cue in enumerate(stretch, start=lo + 1):
        counts.update(v.rule for v in qc.check_cue(cue, number, options, previous))
        previous = cue
    if hi < len(timed) and previous is not None:
        counts.update(v.rule for v in qc.check_cue(timed[hi], hi + 1, options, previous) if v.rule in ("min_gap_ms", "overlap"))
    return counts, [c for c in stretch if _over(c, options)]


def resplit(cues: list[Cue], timed: list[Cue], options: SubtitleOptions, end_limit_ms: int | None,
            language: str = "") -> list[Cue]:
    """Step 8 of the module docstring: ``cues`` are the laid-out cues (natural times), ``timed``
    the same cues after steps 1-7; returns the timed cues, re-split where that helps.

    A move is judged on the cues around it, timed again as a stretch (``WINDOW`` cues on each
    side, between the timed cue before and the cue after, which keep their times) and QC's
    counts over the stretch and the gaps at its ends; the stretch kept replaces those cues, so
    what was judged is what is written."""
    tried: set[int] = set()  # first word index of over-speed cues no move helped
    while True:
        k = next((j for j, c in enumerate(timed) if _over(c, options) and c.words[0].index not in tried), None)
        if k is None:
            return timed
        tried.add(timed[k].words[0].index)
        lo, hi = max(0, k - WINDOW), min(len(cues), k + WINDOW + 1)
        before = timed[lo - 1] if lo else None
        after = (cues[hi].start_ms, timed[hi].start_ms) if hi < len(cues) else None
        base, base_over = _stretch_counts(timed, lo, hi, timed[lo:hi], options)
        slow_words = {w.index for c in base_over for w in c.words}
        best: tuple[tuple[int, int], list[Cue], list[Cue], Counter[str]] | None = None
        for candidate in _moves(cues, k, options, language):
            grown = len(candidate) - len(cues)
            if not all(_fits(c, options) for c in candidate[max(0, k - 1):k + 2 + grown]):
                continue
            stretch = _retime(candidate[lo:hi + grown], options, end_limit_ms, before, after)
            local, over = _stretch_counts(timed, lo, hi, stretch, options)
            if local["max_chars_per_s"] >= base["max_chars_per_s"]:
                continue
            if any(local[rule] > base[rule] for rule in local if rule != "max_chars_per_s"):
                continue
            if any(not slow_words & {w.index for w in c.words} for c in over):
                continue  # words that read fine now in a cue over the cap
            score = (local["max_chars_per_s"], sum(local.values()))
            if best is None or score < best[0]:
                best = (score, candidate, stretch, local)
        if best is None:
            continue
        _, cues, stretch, local = best
        timed = [*timed[:lo], *stretch, *timed[hi:]]
        tried.difference_update(w.index for c in stretch for w in c.words[:1])  # what is left may shed more
