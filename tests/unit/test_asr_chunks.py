from hypothesis import given, strategies as st

from shared.schema import Region
from stages.asr.chunks import merge_regions


def test_close_regions_merge_up_to_the_window():
    regions = [Region(0, 10), Region(11, 20), Region(21, 29.5), Region(30, 35)]
    assert merge_regions(regions, 30.0) == [Region(0, 29.5), Region(30, 35)]


def test_long_region_is_cut_into_windows():
    assert merge_regions([Region(5, 70)], 30.0) == [Region(5, 35), Region(35, 65), Region(65, 70)]


@given(st.lists(st.tuples(st.floats(0, 3000), st.floats(0.05, 80)), max_size=40))
def test_chunks_cover_all_speech_within_the_window(pairs):
    regions = []
    cursor = 0.0
    for gap, length in pairs:
        start = cursor + gap / 100
        regions.append(Region(start, start + length))
        cursor = start + length
    chunks = merge_regions(regions, 30.0)
    assert all(c.end_s - c.start_s <= 30.0 + 1e-9 for c in chunks)
    assert all(a.end_s <= b.start_s for a, b in zip(chunks, chunks[1:]))
    for region in regions:  # every region lies inside the union of chunks
        covered = sum(max(0.0, min(c.end_s, region.end_s) - max(c.start_s, region.start_s)) for c in chunks)
        assert covered == __import__("pytest").approx(region.end_s - region.start_s, abs=1e-6)
