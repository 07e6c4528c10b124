"""The hysteresis that turns per-frame speech probabilities into regions (pure, no model)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import InputError
from stages.silero_vad.regions import FRAME_MS, VadParams, hysteresis, speech_regions

F = FRAME_MS / 1000  # seconds per frame


def runs(*parts: tuple[float, int]) -> np.ndarray:
    """Probabilities from (value, frames) runs."""
    return np.concatenate([np.full(n, v, dtype=np.float32) for v, n in parts])


def spans(regions) -> list[tuple[float, float]]:
    return [(r.start_s, r.end_s) for r in regions]


def full(probs: np.ndarray) -> float:
    return len(probs) * F


def test_silence_gives_no_regions():
    probs = np.zeros(1000, dtype=np.float32)
    assert speech_regions(probs, full(probs), VadParams()) == []


def test_empty_audio_gives_no_regions():
    assert speech_regions(np.zeros(0), 0.0, VadParams()) == []


def test_one_block_of_speech_is_padded_on_both_sides():
    probs = runs((0.0, 50), (0.9, 100), (0.0, 50))
    assert spans(speech_regions(probs, full(probs), VadParams())) == [
        pytest.approx((50 * F - 0.2, 150 * F + 0.2), abs=1e-9)
    ]


def test_regions_are_integer_milliseconds():
    probs = runs((0.0, 31), (1.0, 77), (0.0, 40), (1.0, 20), (0.0, 23))
    for start, end in spans(speech_regions(probs, full(probs) - 0.0123, VadParams())):
        assert round(start * 1000) == pytest.approx(start * 1000, abs=1e-6)
        assert round(end * 1000) == pytest.approx(end * 1000, abs=1e-6)


def test_short_blips_are_dropped_and_long_enough_ones_kept():
    params = VadParams(min_speech_duration_ms=250, speech_pad_ms=0)
    blip = runs((0.0, 50), (1.0, 7), (0.0, 50))  # 224 ms
    assert speech_regions(blip, full(blip), params) == []
    word = runs((0.0, 50), (1.0, 8), (0.0, 50))  # 256 ms
    assert spans(speech_regions(word, full(word), params)) == [pytest.approx((50 * F, 58 * F))]


def test_short_pause_does_not_end_a_region():
    params = VadParams(min_silence_duration_ms=500, speech_pad_ms=0)
    probs = runs((0.0, 20), (1.0, 30), (0.0, 15), (1.0, 30), (0.0, 40))  # 480 ms pause
    assert spans(speech_regions(probs, full(probs), params)) == [pytest.approx((20 * F, 95 * F))]


def test_long_pause_ends_a_region_where_the_silence_began():
    params = VadParams(min_silence_duration_ms=500, speech_pad_ms=0)
    probs = runs((0.0, 20), (1.0, 30), (0.0, 16), (1.0, 30), (0.0, 40))  # 512 ms pause
    assert spans(speech_regions(probs, full(probs), params)) == [
        pytest.approx((20 * F, 50 * F)), pytest.approx((66 * F, 96 * F))
    ]


def test_frames_between_the_thresholds_neither_start_nor_end_speech():
    params = VadParams(threshold=0.5, speech_pad_ms=0)  # neg_threshold 0.35
    assert params.neg_threshold == pytest.approx(0.35)
    only_mid = runs((0.0, 20), (0.45, 200), (0.0, 20))
    assert speech_regions(only_mid, full(only_mid), params) == []
    tail = runs((0.0, 20), (0.9, 30), (0.4, 100), (0.1, 40))
    assert spans(speech_regions(tail, full(tail), params)) == [pytest.approx((20 * F, 150 * F))]


def test_a_frame_above_neg_threshold_restarts_the_silence_count():
    params = VadParams(min_silence_duration_ms=500, speech_pad_ms=0)  # 16 frames
    probs = runs((0.0, 20), (1.0, 30), (0.0, 10), (0.4, 1), (0.0, 10), (1.0, 30), (0.0, 40))
    assert spans(speech_regions(probs, full(probs), params)) == [pytest.approx((20 * F, 101 * F))]


def test_neg_threshold_has_a_floor():
    assert VadParams(threshold=0.1).neg_threshold == pytest.approx(0.01)
    assert VadParams(threshold=0.8).neg_threshold == pytest.approx(0.65)


def test_padding_is_clamped_to_the_audio():
    probs = runs((1.0, 40), (0.0, 30), (1.0, 40))
    duration = full(probs) - 0.010  # last frame partial
    assert spans(speech_regions(probs, duration, VadParams(min_silence_duration_ms=100))) == [
        pytest.approx((0.0, 40 * F + 0.2)), pytest.approx((70 * F - 0.2, duration))
    ]


def test_overlapping_padding_splits_the_gap():
    params = VadParams(min_silence_duration_ms=100, speech_pad_ms=200)
    probs = runs((0.0, 30), (1.0, 30), (0.0, 5), (1.0, 30), (0.0, 30))  # 160 ms gap < 2 x 200 ms
    (a0, a1), (b0, b1) = spans(speech_regions(probs, full(probs), params))
    assert a0 == pytest.approx(30 * F - 0.2)
    assert a1 == b0 == pytest.approx(60 * F + 0.08)
    assert b1 == pytest.approx(95 * F + 0.2)


def test_long_region_is_split_at_its_longest_pause():
    params = VadParams(max_speech_duration_s=30.0, speech_pad_ms=200)
    # 40 s of speech with a 320 ms dip at 12 s and a 96 ms dip at 25 s, neither long enough to end it
    probs = runs((1.0, 375), (0.2, 10), (1.0, 406), (0.1, 3), (1.0, 456))
    (a0, a1), (b0, b1) = spans(speech_regions(probs, full(probs), params))
    assert (a0, a1) == pytest.approx((0.0, 375 * F + 0.16))
    assert (b0, b1) == pytest.approx((375 * F + 0.16, full(probs)))


def test_longest_pause_wins_over_a_deeper_shorter_one():
    params = VadParams(max_speech_duration_s=20.0, speech_pad_ms=0)
    probs = runs((1.0, 300), (0.3, 12), (1.0, 300), (0.0, 4), (1.0, 100))
    regions = spans(speech_regions(probs, full(probs), params))
    assert regions[0] == pytest.approx((0.0, 300 * F))


def test_a_long_pause_near_one_end_does_not_cost_an_extra_split():
    params = VadParams(max_speech_duration_s=30.0, speech_pad_ms=0)
    # 40 s of speech: a 1 s dip (between the thresholds) at 2 s, a 96 ms dip at 20 s
    probs = runs((1.0, 62), (0.4, 31), (1.0, 532), (0.1, 3), (1.0, 622))
    regions = spans(speech_regions(probs, full(probs), params))
    assert regions == [pytest.approx((0.0, 625 * F)), pytest.approx((628 * F, full(probs)))]


def test_region_without_pause_is_hard_cut_below_the_maximum():
    params = VadParams(max_speech_duration_s=30.0, speech_pad_ms=200)
    probs = runs((0.0, 10), (1.0, 2200), (0.0, 30))  # 70 s of uninterrupted speech
    regions = speech_regions(probs, full(probs), params)
    assert len(regions) == 3
    assert all(r.duration_s <= 30.0 + 1e-9 for r in regions)
    assert regions[0].start_s == pytest.approx(10 * F - 0.2)
    assert regions[-1].end_s == pytest.approx(2210 * F + 0.2)
    for left, right in zip(regions, regions[1:]):
        assert left.end_s == pytest.approx(right.start_s)  # nothing lost at the cuts


def test_padding_never_pushes_a_region_past_the_maximum():
    params = VadParams(max_speech_duration_s=10.0, speech_pad_ms=500)
    probs = runs((0.0, 100), (1.0, 310), (0.0, 100))  # 9.92 s raw, 10.92 s once padded
    regions = speech_regions(probs, full(probs), params)
    assert len(regions) == 2
    assert max(r.duration_s for r in regions) <= 10.0


@pytest.mark.parametrize("bad", [
    {"threshold": 0.0}, {"threshold": 1.5}, {"min_speech_duration_ms": -1},
    {"speech_pad_ms": -5}, {"max_speech_duration_s": 0.0}, {"max_speech_duration_s": float("nan")},
])
def test_invalid_parameters_are_refused(bad):
    with pytest.raises(InputError):
        speech_regions(np.zeros(10), 0.32, VadParams(**bad))


def test_hysteresis_frame_ranges():
    probs = runs((0.0, 3), (0.8, 4), (0.0, 20), (0.6, 2))
    assert hysteresis(probs, VadParams(min_silence_duration_ms=100)) == [(3, 7), (27, 29)]


# --- properties --------------------------------------------------------------------------------

LEVELS = st.one_of(st.sampled_from([0.0, 0.02, 0.3, 0.36, 0.45, 0.5, 0.51, 0.7, 1.0]), st.floats(0.0, 1.0))


@st.composite
def cases(draw):
    parts = draw(st.lists(st.tuples(LEVELS, st.integers(1, 400)), min_size=0, max_size=25))
    probs = runs(*parts) if parts else np.zeros(0, dtype=np.float32)
    partial_ms = draw(st.integers(0, FRAME_MS - 1)) if len(probs) else 0
    duration = max(0.0, (len(probs) * FRAME_MS - partial_ms) / 1000)
    params = VadParams(
        threshold=draw(st.floats(0.05, 0.95)),
        min_speech_duration_ms=draw(st.integers(0, 1000)),
        min_silence_duration_ms=draw(st.integers(0, 2000)),
        speech_pad_ms=draw(st.integers(0, 600)),
        max_speech_duration_s=draw(st.one_of(st.floats(0.001, 60.0), st.sampled_from([0.02, 0.1, 1.0, 5.0, 30.0]))),
    )
    return probs, duration, params


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(cases())
def test_regions_are_sorted_disjoint_inside_the_audio_and_bounded(case):
    probs, duration, params = case
    regions = speech_regions(probs, duration, params)
    max_s = params.max_speech_duration_s
    for r in regions:
        assert 0.0 <= r.start_s < r.end_s <= duration + 1e-9
        assert r.duration_s <= max_s + 1e-9
    for left, right in zip(regions, regions[1:]):
        assert left.end_s <= right.start_s + 1e-9


@PROPERTY
@given(cases())
def test_every_speech_frame_is_covered_when_nothing_is_dropped(case):
    probs, duration, params = case
    # nothing dropped: no minimum length, and a maximum that holds at least one frame
    params = VadParams(params.threshold, 0, params.min_silence_duration_ms, params.speech_pad_ms,
                       max(params.max_speech_duration_s, FRAME_MS / 1000))
    regions = speech_regions(probs, duration, params)
    duration_ms = math.floor(duration * 1000 + 1e-6)
    covered = np.zeros(duration_ms, dtype=bool)
    for r in regions:
        covered[round(r.start_s * 1000):round(r.end_s * 1000)] = True
    speech_ms = np.repeat(probs >= params.threshold, FRAME_MS)[:duration_ms]
    missed = np.flatnonzero(speech_ms & ~covered)
    assert missed.size == 0, f"speech at {missed[0]} ms is outside every region"


@PROPERTY
@given(cases())
def test_every_region_holds_some_speech(case):
    probs, duration, params = case
    for r in speech_regions(probs, duration, params):
        first = int(r.start_s * 1000 + 1e-6) // FRAME_MS
        last = math.ceil(r.end_s * 1000 - 1e-6) // FRAME_MS
        assert (probs[first:last + 1] >= params.threshold).any()
