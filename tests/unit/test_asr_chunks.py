import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.schema import Region
from stages.asr.chunks import Timeline, group_regions, split_long


def test_regions_pack_by_speech_not_by_span():
    regions = [Region(0, 10), Region(40, 50), Region(100, 109.5), Region(200, 205)]
    chunks = group_regions(regions, 30.0)
    # 29.5 s of speech spread over 109.5 s still fits one window: the silences are cut out
    assert [c.regions for c in chunks] == [tuple(regions[:3]), (regions[3],)]
    assert chunks[0].speech_s == pytest.approx(29.5)


def test_long_region_is_cut_into_windows():
    assert split_long([Region(5, 70)], 30.0) == [Region(5, 35), Region(35, 65), Region(65, 70)]


def test_timeline_maps_concatenated_speech_back_to_the_film():
    timeline = Timeline([Region(10, 12), Region(20, 23)])
    assert timeline.duration_s == 5
    assert timeline.to_original(0.5) == 10.5
    assert timeline.to_original(2.0) == 20.0  # a start on the boundary belongs to the next region
    assert timeline.to_original(2.0, is_end=True) == 12.0  # an end to the previous one
    assert timeline.to_original(4.0) == 22.0
    assert timeline.to_original(99) == 23.0  # clamped


regions_strategy = st.lists(st.tuples(st.floats(0.01, 30), st.floats(0.05, 80)), min_size=1, max_size=40).map(
    lambda pairs: [Region(sum(g + d for g, d in pairs[:i]) + g, sum(g + d for g, d in pairs[:i]) + g + d)
                   for i, (g, d) in enumerate(pairs)])


@given(regions_strategy)
def test_chunks_hold_every_second_of_speech_once(regions):
    chunks = group_regions(regions, 30.0)
    assert all(c.speech_s <= 30.0 + 1e-6 for c in chunks)
    assert sum(c.speech_s for c in chunks) == pytest.approx(sum(r.duration_s for r in regions))
    flat = [r for c in chunks for r in c.regions]
    assert all(a.end_s <= b.start_s + 1e-9 for a, b in zip(flat, flat[1:]))


@given(regions_strategy, st.floats(0, 1))
def test_timeline_is_monotonic_and_lands_in_speech(regions, fraction):
    timeline = Timeline(regions)
    t = fraction * timeline.duration_s
    original = timeline.to_original(t)
    assert any(r.start_s - 1e-6 <= original <= r.end_s + 1e-6 for r in regions)
    assert timeline.to_original(t) <= timeline.to_original(min(t + 0.01, timeline.duration_s)) + 1e-9


def _segment_with_words(*spans):
    from shared.schema import Segment, Word
    words = tuple(Word(a, b, " w") for a, b in spans)
    return Segment(spans[0][0], spans[-1][1], "w", words)


def test_tail_after_the_last_word_is_found_for_a_second_pass():
    from stages.asr.chunks import Chunk, untranscribed_tail
    chunk = Chunk((Region(19.1, 41.8), Region(42.3, 47.1)))
    stopped_short = [_segment_with_words((19.2, 20.0), (40.9, 41.7))]
    assert untranscribed_tail(chunk, stopped_short) == [Region(42.3, 47.1)]
    complete = stopped_short + [_segment_with_words((42.4, 43.0), (46.5, 47.0))]
    assert untranscribed_tail(chunk, complete) == []
    assert untranscribed_tail(chunk, []) == list(chunk.regions)  # nothing heard: all of it again
