"""Speaker turns as plain records: overlap regions, the exclusive view,
masking by speech regions, and relabelling. Pure functions, no pyannote."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shared.speakers import Turn, speaker_order

EPSILON_S = 1e-6


def sort_turns(turns: Iterable[Turn]) -> list[Turn]:
    return sorted((t for t in turns if t.end_s - t.start_s > EPSILON_S), key=lambda t: (t.start_s, t.end_s, t.speaker))


def merge_intervals(intervals: Iterable[tuple[float, float]], gap_s: float = 0.0) -> list[tuple[float, float]]:
    """The union of intervals, sorted; intervals closer than ``gap_s`` are joined."""
    merged: list[list[float]] = []
    for a, b in sorted((a, b) for a, b in intervals if b > a):
        if merged and a <= merged[-1][1] + gap_s:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _elementary(turns: Sequence[Turn]) -> list[tuple[float, float, list[Turn]]]:
    """The timeline cut at every turn boundary: (start, end, turns active there), in time order."""
    bounds = sorted({t.start_s for t in turns} | {t.end_s for t in turns})
    ordered = sort_turns(turns)
    out: list[tuple[float, float, list[Turn]]] = []
    active: list[Turn] = []
    k = 0
    for a, b in zip(bounds, bounds[1:]):
        active = [t for t in active if t.end_s > a]
        while k < len(ordered) and ordered[k].start_s <= a:
            if ordered[k].end_s > a:
                active.append(ordered[k])
            k += 1
        if active:
            out.append((a, b, list(active)))
    return out


def overlap_regions(turns: Sequence[Turn]) -> list[tuple[float, float]]:
    """Where two or more different speakers talk at once, merged and sorted."""
    return merge_intervals((a, b) for a, b, active in _elementary(turns) if len({t.speaker for t in active}) > 1)


def exclusive_view(turns: Sequence[Turn]) -> list[Turn]:
    """One speaker at a time: where turns overlap, the speaker of the longest
    turn there keeps the floor (a short interjection over a long turn is not
    what a transcript of that moment mostly holds). Adjacent pieces of one
    speaker are joined."""
    pieces: list[Turn] = []
    for a, b, active in _elementary(turns):
        speaker = max(active, key=lambda t: (t.duration_s, -t.start_s)).speaker
        if pieces and pieces[-1].speaker == speaker and abs(pieces[-1].end_s - a) <= EPSILON_S:
            pieces[-1] = Turn(pieces[-1].start_s, b, speaker)
        else:
            pieces.append(Turn(a, b, speaker))
    return pieces


def mask_turns(turns: Sequence[Turn], regions: Sequence[tuple[float, float]]) -> list[Turn]:
    """Turns cut to the speech regions (both sorted); pieces are kept in order."""
    regions = merge_intervals(regions)
    out: list[Turn] = []
    for t in sort_turns(turns):
        for a, b in regions:
            if b <= t.start_s:
                continue
            if a >= t.end_s:
                break
            start, end = max(a, t.start_s), min(b, t.end_s)
            if end - start > EPSILON_S:
                out.append(Turn(start, end, t.speaker))
    return sort_turns(out)


FIRST_TURN_MIN_S = 0.5  # a speaker "appears" with their first turn at least this long


def appearance_order(turns: Sequence[Turn]) -> tuple[str, ...]:
    """Speakers in order of their first turn of at least FIRST_TURN_MIN_S (a 20 ms
    fragment at a turn change does not make someone the first speaker); speakers with
    only shorter turns follow, in order of first appearance."""
    long_turns = [t for t in turns if t.duration_s >= FIRST_TURN_MIN_S]
    return tuple(dict.fromkeys([*speaker_order(long_turns), *speaker_order(turns)]))


def relabel(turns: Sequence[Turn], exclusive: Sequence[Turn]) -> tuple[list[Turn], list[Turn], tuple[str, ...]]:
    """Labels ``SPEAKER_00``, ``SPEAKER_01``, ... in order of appearance, so that the
    same audio gives the same labels whatever the pipeline called them, and
    SPEAKER_00 is who speaks first."""
    order = appearance_order(turns)
    mapping = {old: f"SPEAKER_{k:02d}" for k, old in enumerate(order)}
    for t in exclusive:  # a speaker only in the exclusive view (cannot happen, but never drop one)
        mapping.setdefault(t.speaker, f"SPEAKER_{len(mapping):02d}")
    new_turns = [Turn(t.start_s, t.end_s, mapping[t.speaker]) for t in turns]
    new_exclusive = [Turn(t.start_s, t.end_s, mapping[t.speaker]) for t in exclusive]
    return new_turns, new_exclusive, tuple(mapping[s] for s in order)
