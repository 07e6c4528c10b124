"""Where pyannote-vad runs its model, and what it keeps."""

from shared.schema import Region
from stages.pyannote_vad.spans import clip, to_regions, windows


def test_windows_widen_regions_and_join_neighbours_within_the_audio():
    regions = (Region(0.5, 2.0), Region(2.5, 4.0), Region(10.0, 11.0))
    assert windows(regions, 1.0, 11.5) == [(0.0, 5.0), (9.0, 11.5)]
    assert windows(regions, 0.0, 20.0) == [(0.5, 2.0), (2.5, 4.0), (10.0, 11.0)]
    assert windows((), 1.0, 10.0) == []


def test_clip_keeps_what_lies_inside():
    assert clip([(0, 2), (3, 5), (9, 12)], 1, 10) == [(1, 2), (3, 5), (9, 10)]
    assert clip([(0, 1)], 1, 2) == []


def test_to_regions_sorts_joins_and_rounds():
    assert to_regions([(3.0, 4.0), (0.0, 1.00001), (1.0, 2.0), (5, 5)]) == (Region(0.0, 2.0), Region(3.0, 4.0))
