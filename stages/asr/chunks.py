"""Speech regions to Whisper chunks, and times back to the film.

Whisper reads 30 s windows. Feeding it a window that spans several regions
*with the silence between them* makes it stop early and drop the speech at
the end of the window (measured: a 5 s sentence at the end of a 28 s window
vanished). So a chunk is the concatenation of consecutive speech regions,
silences cut out, up to ``max_chunk_duration_s`` of speech; a region longer
than that is cut into window-sized pieces. :class:`Timeline` maps a time on
the concatenated speech back to the original audio.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from shared.schema import Region


@dataclass(frozen=True)
class Chunk:
    regions: tuple[Region, ...]  # in the original audio, in order

    @property
    def speech_s(self) -> float:
        return sum(r.duration_s for r in self.regions)


def split_long(regions: list[Region] | tuple[Region, ...], max_s: float) -> list[Region]:
    pieces = []
    for region in sorted(regions, key=lambda r: r.start_s):
        start = region.start_s
        while region.end_s - start > max_s:
            pieces.append(Region(start, start + max_s))
            start += max_s
        if region.end_s > start:
            pieces.append(Region(start, region.end_s))
    return pieces


def group_regions(regions: list[Region] | tuple[Region, ...], max_chunk_duration_s: float) -> list[Chunk]:
    """Consecutive regions packed into chunks of at most ``max_chunk_duration_s`` of speech."""
    chunks: list[list[Region]] = []
    speech = 0.0
    for piece in split_long(regions, max_chunk_duration_s):
        if chunks and speech + piece.duration_s <= max_chunk_duration_s + 1e-9:
            chunks[-1].append(piece)
            speech += piece.duration_s
        else:
            chunks.append([piece])
            speech = piece.duration_s
    return [Chunk(tuple(c)) for c in chunks]


class Timeline:
    """Maps seconds on the concatenation of ``regions`` to seconds in the original audio."""

    def __init__(self, regions: list[Region] | tuple[Region, ...]):
        self.regions = list(regions)
        self.offsets: list[float] = []  # where each region starts on the concatenated timeline
        total = 0.0
        for region in self.regions:
            self.offsets.append(total)
            total += region.duration_s
        self.duration_s = total

    def to_original(self, t: float, is_end: bool = False) -> float:
        """A start time at a region boundary belongs to the next region, an end time to the previous."""
        if not self.regions:
            return t
        t = min(max(t, 0.0), self.duration_s)
        index = (bisect.bisect_left if is_end else bisect.bisect_right)(self.offsets, t) - 1
        index = min(max(index, 0), len(self.regions) - 1)
        region = self.regions[index]
        return min(region.start_s + (t - self.offsets[index]), region.end_s)


TAIL_TOLERANCE_S = 0.5  # speech after the last word shorter than this is breath, not a lost sentence
MIN_TAIL_SPEECH_S = 1.0  # a retried tail holds at least this much speech


def untranscribed_tail(chunk: Chunk, segments) -> list[Region]:
    """The speech of ``chunk`` after its last transcribed word, when Whisper stopped short.

    Whisper sometimes ends a window early, typically when the voice or the
    recording changes inside it; the words of the rest are then missing.
    ``segments`` are film-timed; those whose words fall inside the chunk count."""
    first, last = chunk.regions[0].start_s, chunk.regions[-1].end_s
    ends = [w.end_s for s in segments for w in s.words if first <= w.start_s < last]
    covered_until = max(ends) + TAIL_TOLERANCE_S if ends else first
    tail = [Region(max(r.start_s, covered_until), r.end_s) for r in chunk.regions if r.end_s > covered_until]
    return tail if sum(r.duration_s for r in tail) >= MIN_TAIL_SPEECH_S else []
