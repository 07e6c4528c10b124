"""Shot changes: cue times on frame boundaries, and cue edges snapped to cuts.

When the shots stage ran on a video, its frame rate and cut frames form a
:class:`ShotGrid`, and :func:`snap` runs after every other timing step:

1. **Frames.** Every start and end moves to the nearest frame boundary (a
   boundary is written in whole milliseconds, nearest); where rounding would
   break a rule the cue kept (a duration just at the minimum, a gap), the other
   neighbouring boundary is tried. With a frame rate the minimum gap is whole
   frames (:func:`frame_options`: 83 ms is 2 frames at 23.976-30 fps).
2. **Cuts**, cue by cue in time order, the start before the end:

   - a start within ``shot_snap_frames`` of a cut (before or after it) moves
     onto the cut;
   - an end within ``shot_snap_frames`` of a cut moves to
     ``shot_end_gap_frames`` before it;
   - where that move is not allowed, the edge moves to the far side of the
     cut instead, ``shot_snap_frames`` away (a start before the cut,
     an end after it); a start (on the cut or before it) may take the time it
     needs from the end of the cue before, to leave the minimum gap;
   - a move is allowed only when the cue and its neighbours break no rule they
     did not break before, and none further than before (the QC checks: overlap, minimum gap, minimum and
     maximum duration, reading speed, lines; never past the media's end) and
     the cues it moves come out with fewer shot problems in all; otherwise the edge stays, and QC reports it
     (``shot_change_start``, ``shot_change_end``).

So a cue never starts or ends fewer than ``shot_snap_frames`` from a cut it
crosses, unless QC says so.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shared import schema
from shared.options.subtitles import SubtitleOptions
from shared.schema import FrameRate
from stages.subtitles import qc
from stages.subtitles.cues import Cue


@dataclass(frozen=True)
class ShotGrid:
    """The video's frame rate and cuts (frame numbers of the first frame of each new shot)."""

    rate: FrameRate
    cuts: tuple[int, ...] = ()
    snap_frames: int = 12
    end_gap_frames: int = 2

    def frame(self, ms: int) -> int:
        return self.rate.frame_at(ms)

    def ms(self, frame: int) -> int:
        return self.rate.ms_of(frame)

    def cuts_near(self, frame: int) -> list[int]:
        """Cuts fewer than ``snap_frames`` from ``frame``, nearest first."""
        lo = bisect.bisect_left(self.cuts, frame - self.snap_frames + 1)
        hi = bisect.bisect_right(self.cuts, frame + self.snap_frames - 1)
        return sorted(self.cuts[lo:hi], key=lambda c: (abs(c - frame), c))

    def start_problems(self, start_ms: int) -> list[int]:
        """Cuts the start is too close to without being on them."""
        f = self.frame(start_ms)
        return [c for c in self.cuts_near(f) if f != c]

    def end_problems(self, end_ms: int) -> list[int]:
        """Cuts the end is too close to without being ``end_gap_frames`` before them."""
        f = self.frame(end_ms)
        return [c for c in self.cuts_near(f) if f != c - self.end_gap_frames]


def load(inputs: dict[str, Path], options: SubtitleOptions) -> ShotGrid | None:
    """The shots stage's grid, or None when it did not run or the input has no video."""
    if "shots" not in inputs:
        return None
    record = schema.load(inputs["shots"], schema.ShotChanges)
    if record.frame_rate is None:
        return None
    return ShotGrid(record.frame_rate, tuple(sorted(set(record.cut_frames))), options.shot_snap_frames,
                    options.shot_end_gap_frames)


def frame_options(options: SubtitleOptions, grid: ShotGrid | None) -> SubtitleOptions:
    """With a frame rate, the minimum gap in whole frames (nearest, at least one when there is a
    gap), in whole milliseconds (down)."""
    if grid is None:
        return options
    frames = max(1 if options.min_gap_ms > 0 else 0, round(options.min_gap_ms / grid.rate.frame_ms))
    return dataclasses.replace(options, min_gap_ms=int(frames * grid.rate.frame_ms))


# Rules whose measured value is worse when larger; the others are worse when smaller.
_LARGER_IS_WORSE = frozenset({"max_chars_per_line", "max_lines", "max_chars_per_s", "max_duration_ms", "media_end"})


def _rules(cues: Sequence[Cue], ks: Sequence[int], options: SubtitleOptions,
           end_limit_ms: int | None) -> dict[tuple[int, str], float]:
    """The rules cues ``ks`` and the gaps after them break: (cue, rule) -> measured value."""
    found: dict[tuple[int, str], float] = {}
    for j in sorted({j for k in ks for j in (k, k + 1)}):
        if 0 <= j < len(cues):
            for v in qc.check_cue(cues[j], j + 1, options, cues[j - 1] if j else None):
                found[(j, v.rule)] = math.inf if v.measured is None else float(v.measured)
    last = cues[-1]
    if end_limit_ms is not None and last.end_ms > max(end_limit_ms, last.words[-1].end_ms):
        found[(len(cues) - 1, "media_end")] = float(last.end_ms)
    return found


def _no_worse(before: dict[tuple[int, str], float], after: dict[tuple[int, str], float]) -> bool:
    """No rule broken that was not, none broken further (a faster cue over the cap, a shorter gap)."""
    for key, value in after.items():
        if key not in before:
            return False
        if (value > before[key]) if key[1] in _LARGER_IS_WORSE else (value < before[key]):
            return False
    return True


def _shot_problems(grid: ShotGrid, cue: Cue) -> int:
    return len(grid.start_problems(cue.start_ms)) + len(grid.end_problems(cue.end_ms))


def _try(cues: list[Cue], changes: dict[int, Cue], grid: ShotGrid, options: SubtitleOptions,
         end_limit_ms: int | None) -> bool:
    """Make ``changes`` (index -> cue) when they break no rule that was not broken before and leave
    the changed cues with fewer shot problems in all (see the module docstring)."""
    if any(c.end_ms <= c.start_ms for c in changes.values()):
        return False
    before = _rules(cues, list(changes), options, end_limit_ms)
    problems = sum(_shot_problems(grid, cues[k]) for k in changes)
    kept = {k: cues[k] for k in changes}
    for k, c in changes.items():
        cues[k] = c
    if (_no_worse(before, _rules(cues, list(changes), options, end_limit_ms))
            and sum(_shot_problems(grid, cues[k]) for k in changes) < problems):
        return True
    for k, c in kept.items():
        cues[k] = c
    return False


def _on_frames(cues: list[Cue], grid: ShotGrid, options: SubtitleOptions, end_limit_ms: int | None) -> list[Cue]:
    out = list(cues)
    for k, cue in enumerate(cues):
        before = _rules(out, [k], options, end_limit_ms)
        s, e = grid.frame(cue.start_ms), grid.frame(cue.end_ms)
        for a, b in [(s, e), (s, e + 1), (s + 1, e), (s - 1, e), (s, e - 1)]:
            out[k] = cue.retimed(grid.ms(a), grid.ms(b))
            if b > a and _no_worse(before, _rules(out, [k], options, end_limit_ms)):
                break
        else:
            out[k] = cue.retimed(grid.ms(s), grid.ms(max(e, s + 1)))
    return out


def _gap_frames(grid: ShotGrid, options: SubtitleOptions) -> int:
    return max(0, math.ceil(options.min_gap_ms / grid.rate.frame_ms - 1e-6))


def _snap_edge(cues: list[Cue], k: int, grid: ShotGrid, options: SubtitleOptions, end_limit_ms: int | None,
               edge: str) -> None:
    cue = cues[k]
    problems = grid.start_problems(cue.start_ms) if edge == "start" else grid.end_problems(cue.end_ms)
    if not problems:
        return
    cut = problems[0]
    tries: list[dict[int, Cue]] = []
    if edge == "start":
        f = grid.frame(cue.start_ms)
        for x in (cut, cut + grid.snap_frames if f > cut else cut - grid.snap_frames):
            tries.append({k: cue.retimed(grid.ms(x), cue.end_ms)})
            if k and cues[k - 1].end_ms > grid.ms(x - _gap_frames(grid, options)):  # the cue before makes room
                previous = cues[k - 1]
                tries.append({k - 1: previous.retimed(previous.start_ms, grid.ms(x - _gap_frames(grid, options))),
                              k: cue.retimed(grid.ms(x), cue.end_ms)})
    else:
        f = grid.frame(cue.end_ms)
        on = cut - grid.end_gap_frames
        for x in (on, cut + grid.snap_frames if f > on else cut - grid.snap_frames):
            tries.append({k: cue.retimed(cue.start_ms, grid.ms(x))})
    for changes in tries:
        if _try(cues, changes, grid, options, end_limit_ms):
            return


def snap(cues: Sequence[Cue], grid: ShotGrid, options: SubtitleOptions, end_limit_ms: int | None = None) -> list[Cue]:
    """Cues on frame boundaries with their edges snapped to cuts (see the module docstring)."""
    out = _on_frames(list(cues), grid, options, end_limit_ms)
    for k in range(len(out)):
        _snap_edge(out, k, grid, options, end_limit_ms, "start")
        _snap_edge(out, k, grid, options, end_limit_ms, "end")
    return out
