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

Starts never move later, so cues stay in time order and never overlap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from shared.options.subtitles import SubtitleOptions
from stages.subtitles.cues import Cue


def wanted_duration_ms(cue: Cue, options: SubtitleOptions) -> int:
    """How long the cue should show: enough to read at the target speed, at
    least the minimum, at most the maximum."""
    reading = math.ceil(cue.chars * 1000.0 / options.target_chars_per_s) if options.target_chars_per_s > 0 else 0
    return min(max(options.min_duration_ms, reading), options.max_duration_ms)


def retime(cues: Sequence[Cue], options: SubtitleOptions, end_limit_ms: int | None = None) -> list[Cue]:
    """Cues with their final times (see the module docstring)."""
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
    return out
