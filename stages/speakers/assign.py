"""Words to speakers through an interval index over the exclusive turns.

The exclusive turns never overlap, so their starts and their ends are both
sorted, and the turns a word [a, b] overlaps are one contiguous run found
by two binary searches: from the first turn ending after ``a`` to the last
starting before ``b``. A word costs O(log n + k) for k overlapping turns,
never a scan of every turn. The regions where the full diarization has two
or more speakers at once are indexed the same way.

A word gets the speaker it overlaps longest. It is flagged ``overlap`` when
it lies in overlapped speech or spans a change of speaker, and ``gap`` when
no turn covers it at all: then it gets the nearest turn's speaker.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from shared.speakers import GAP, INSIDE, NO_SPEAKER, OVERLAP, Turn

MIN_WORD_S = 0.001  # a word with no duration is looked up as 1 ms long


@dataclass(frozen=True)
class Assignment:
    speaker: str
    how: str  # INSIDE, OVERLAP, GAP or NO_SPEAKER
    distance_s: float = 0.0  # for GAP: how far the nearest turn is


class TurnIndex:
    """Exclusive turns and overlap regions, indexed for lookups by time."""

    def __init__(self, exclusive: Sequence[Turn], overlaps: Sequence[tuple[float, float]] = ()):
        turns = sorted((t for t in exclusive if t.end_s > t.start_s), key=lambda t: (t.start_s, t.end_s))
        for prev, nxt in zip(turns, turns[1:]):
            if nxt.start_s < prev.end_s - 1e-6:
                raise ValueError(f"exclusive turns overlap at {nxt.start_s:.3f} s ({prev.speaker}, {nxt.speaker})")
        self.turns = turns
        self.starts = [t.start_s for t in turns]
        self.ends = [t.end_s for t in turns]
        regions = sorted((a, b) for a, b in overlaps if b > a)
        self.overlap_starts = [a for a, _ in regions]
        self.overlap_ends = [b for _, b in regions]

    def __len__(self) -> int:
        return len(self.turns)

    def overlapping(self, start_s: float, end_s: float) -> range:
        """Indices of the turns that overlap [start_s, end_s] (a contiguous run)."""
        return range(bisect_right(self.ends, start_s), bisect_left(self.starts, end_s))

    def in_overlapped_speech(self, start_s: float, end_s: float) -> bool:
        k = bisect_right(self.overlap_ends, start_s)
        return k < len(self.overlap_starts) and self.overlap_starts[k] < end_s

    def assign(self, start_s: float, end_s: float) -> Assignment:
        if not self.turns:
            return Assignment("", NO_SPEAKER)
        end_s = max(end_s, start_s + MIN_WORD_S)
        run = self.overlapping(start_s, end_s)
        if len(run) == 0:
            return self._nearest(run.start, start_s, end_s)
        shares: dict[str, float] = {}
        for k in run:
            t = self.turns[k]
            shares[t.speaker] = shares.get(t.speaker, 0.0) + min(t.end_s, end_s) - max(t.start_s, start_s)
        speaker = max(shares, key=lambda s: (shares[s], -self._first_start(s, run)))
        several = sum(1 for v in shares.values() if v > 0) > 1
        how = OVERLAP if several or self.in_overlapped_speech(start_s, end_s) else INSIDE
        return Assignment(speaker, how)

    def _first_start(self, speaker: str, run: range) -> float:
        return next(self.turns[k].start_s for k in run if self.turns[k].speaker == speaker)

    def _nearest(self, k: int, start_s: float, end_s: float) -> Assignment:
        """Turn k-1 ends before the word, turn k starts after it: the closer one."""
        before = start_s - self.ends[k - 1] if k > 0 else float("inf")
        after = self.starts[k] - end_s if k < len(self.turns) else float("inf")
        if before <= after:
            return Assignment(self.turns[k - 1].speaker, GAP, max(0.0, before))
        return Assignment(self.turns[k].speaker, GAP, max(0.0, after))


def display_names(speakers: Sequence[str], metadata_names: dict[str, str]) -> dict[str, str]:
    """The name shown for each label: metadata.json's, else ``Speaker 1``, ``Speaker 2``, ... in
    order of first appearance (labels themselves mean nothing to a viewer)."""
    return {label: (metadata_names.get(label) or "").strip() or f"Speaker {k + 1}" for k, label in enumerate(speakers)}
