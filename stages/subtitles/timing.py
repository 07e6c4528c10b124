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

What is still over the cap is reported by QC.

Starts never move later, so cues stay in time order and never overlap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from shared.options.subtitles import SubtitleOptions
from stages.subtitles.cues import Cue
from stages.subtitles.shots import ShotGrid, snap


def wanted_duration_ms(cue: Cue, options: SubtitleOptions) -> int:
    """How long the cue should show: enough to read at the target speed, at
    least the minimum, at most the maximum."""
    reading = math.ceil(cue.chars * 1000.0 / options.target_chars_per_s) if options.target_chars_per_s > 0 else 0
    return min(max(options.min_duration_ms, reading), options.max_duration_ms)


def retime(cues: Sequence[Cue], options: SubtitleOptions, end_limit_ms: int | None = None,
           grid: ShotGrid | None = None) -> list[Cue]:
    """Cues with their final times (see the module docstring); with ``grid`` (the video's
    shot changes) on frames and snapped to cuts last (stages/subtitles/shots.py)."""
    timed = _retime(cues, options, end_limit_ms)
    if grid is not None:
        timed = snap(timed, grid, options, end_limit_ms)
    return timed


def _retime(cues: Sequence[Cue], options: SubtitleOptions, end_limit_ms: int | None) -> list[Cue]:
    """Steps 1-7 of the module docstring."""
    out: list[Cue] = []
    gap = options.min_gap_ms
    for k, cue in enumerate(cues):
        start = cue.start_ms
        next_start = cues[k + 1].start_ms if k + 1 < len(cues) else None
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
        earliest = 0 if not out else out[-1].end_ms + gap
        if end - start < options.min_duration_ms and earliest < start:  # 3. start earlier into the silence
            start = max(earliest, min(start, end - options.min_duration_ms))
        floor = min(spoken, options.min_duration_ms)
        if end - start < floor:  # 4. the gap gives way
            end = start + floor
            if next_start is not None:
                end = min(end, next_start)
        out.append(cue.retimed(start, end))
    return _ease_reading_speed(out, options, end_limit_ms)


def _needed_ms(cue: Cue, chars_per_s: float) -> int:
    return math.ceil(cue.chars * 1000.0 / chars_per_s)


def _ease_reading_speed(cues: list[Cue], options: SubtitleOptions, end_limit_ms: int | None) -> list[Cue]:
    """Steps 5-7 of the module docstring on cues with their final times."""
    cap, gap = options.max_chars_per_s, options.min_gap_ms
    for k, cue in enumerate(cues):
        if cue.chars_per_s() <= cap:
            continue
        need = _needed_ms(cue, cap)
        start, end = cue.start_ms, cue.end_ms
        if k + 1 < len(cues):  # 5. into the gap after
            latest: float = cues[k + 1].start_ms - gap
        else:
            latest = max(end, end_limit_ms) if end_limit_ms is not None else math.inf
        end = max(end, int(min(latest, start + options.max_duration_ms, start + need)))
        want = end - need
        if want >= start:
            cues[k] = cue.retimed(start, end)
            continue
        floor = max(0, cue.words[0].start_ms - options.max_lead_in_ms, end - options.max_duration_ms)
        after_previous = cues[k - 1].end_ms + gap if k else 0
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
