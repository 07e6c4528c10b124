"""Speech regions to Whisper chunks: consecutive regions are merged while the
merged chunk stays within Whisper's window; a region longer than the window
is cut into window-sized pieces."""

from __future__ import annotations

from shared.schema import Region


def merge_regions(regions: tuple[Region, ...] | list[Region], max_chunk_duration_s: float) -> list[Region]:
    chunks: list[Region] = []
    for region in sorted(regions, key=lambda r: r.start_s):
        start = region.start_s
        while region.end_s - start > max_chunk_duration_s:  # too long for one window: cut it
            chunks.append(Region(start, start + max_chunk_duration_s))
            start += max_chunk_duration_s
        piece = Region(start, region.end_s)
        if chunks and piece.end_s - chunks[-1].start_s <= max_chunk_duration_s and piece.start_s >= chunks[-1].end_s:
            chunks[-1] = Region(chunks[-1].start_s, piece.end_s)
        else:
            chunks.append(piece)
    return chunks
