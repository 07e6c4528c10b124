"""Where the segmentation model runs and what is kept: plain interval arithmetic."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shared.schema import Region


def windows(regions: Sequence[Region], context_s: float, duration_s: float) -> list[tuple[float, float]]:
    """The silero regions widened by ``context_s`` on both sides (within the
    audio), overlapping ones joined: where the model runs."""
    out: list[list[float]] = []
    for r in sorted(regions, key=lambda r: r.start_s):
        a, b = max(0.0, r.start_s - context_s), min(duration_s, r.end_s + context_s)
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def clip(intervals: Iterable[tuple[float, float]], start_s: float, end_s: float) -> list[tuple[float, float]]:
    """Intervals cut to [start_s, end_s], empty ones dropped."""
    return [(max(a, start_s), min(b, end_s)) for a, b in intervals if min(b, end_s) > max(a, start_s)]


def to_regions(intervals: Iterable[tuple[float, float]]) -> tuple[Region, ...]:
    """Sorted, joined where they touch or overlap."""
    merged: list[list[float]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1] + 1e-6:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return tuple(Region(round(a, 3), round(b, 3)) for a, b in merged if b - a > 1e-6)
