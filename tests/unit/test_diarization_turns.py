"""Speaker turns as records: overlaps, the exclusive view, masking, relabelling, RTTM."""

from __future__ import annotations

import pytest

from shared.options.diarization import DiarizationOptions
from shared.schema import Region
from shared.speakers import Diarization, Turn, parse_rttm, to_rttm
from stages.diarization.stage import make_record
from stages.diarization.turns import exclusive_view, mask_turns, merge_intervals, overlap_regions, relabel, sort_turns

T = Turn


def test_merge_intervals_joins_touching_and_close_ones():
    assert merge_intervals([(3, 4), (0, 1), (1, 2)]) == [(0, 2), (3, 4)]
    assert merge_intervals([(0, 1), (1.5, 2)], gap_s=0.5) == [(0, 2)]
    assert merge_intervals([(2, 1)]) == []


def test_overlap_regions_are_where_two_different_speakers_talk():
    turns = [T(0, 5, "A"), T(4, 8, "B"), T(7.5, 9, "A"), T(10, 11, "B")]
    assert overlap_regions(turns) == [(4, 5), (7.5, 8)]
    assert overlap_regions([T(0, 2, "A"), T(1, 3, "A")]) == []  # one speaker twice is not an overlap


def test_exclusive_view_never_overlaps_and_gives_the_floor_to_the_longer_turn():
    turns = [T(0, 10, "A"), T(4, 5, "B"), T(12, 14, "B")]
    view = exclusive_view(turns)
    assert view == [T(0, 10, "A"), T(12, 14, "B")]  # B's interjection over A's long turn goes to A
    turns = [T(0, 3, "A"), T(2, 9, "B")]
    assert exclusive_view(turns) == [T(0, 2, "A"), T(2, 9, "B")]
    for a, b in zip(view, view[1:]):
        assert a.end_s <= b.start_s


def test_mask_cuts_turns_to_speech_regions():
    turns = [T(0, 10, "A"), T(11, 12, "B")]
    assert mask_turns(turns, [(1, 3), (5, 6), (20, 30)]) == [T(1, 3, "A"), T(5, 6, "A")]


def test_relabel_numbers_speakers_by_first_appearance():
    turns, exclusive, speakers = relabel([T(5, 6, "x"), T(0, 1, "y")], [T(0, 1, "y"), T(5, 6, "x")])
    assert speakers == ("SPEAKER_00", "SPEAKER_01")
    assert turns == [T(5, 6, "SPEAKER_01"), T(0, 1, "SPEAKER_00")]
    assert exclusive[0].speaker == "SPEAKER_00"


def test_sort_turns_drops_empty_ones():
    assert sort_turns([T(2, 3, "a"), T(1, 1, "b"), T(0, 1, "c")]) == [T(0, 1, "c"), T(2, 3, "a")]


def test_make_record_masks_relabels_and_derives_the_exclusive_view():
    raw = [T(0.0, 4.0, "spk_7"), T(3.0, 6.0, "spk_2"), T(9.0, 12.0, "spk_7")]
    regions = (Region(0.5, 6.0), Region(9.0, 11.0))
    record = make_record(raw, None, regions, DiarizationOptions(), 12.0, {"stage": "diarization"})
    assert record.speakers == ("SPEAKER_00", "SPEAKER_01")
    assert record.turns[0] == T(0.5, 4.0, "SPEAKER_00") and record.turns[-1] == T(9.0, 11.0, "SPEAKER_00")
    assert record.overlaps == ((3.0, 4.0),)
    assert all(a.end_s <= b.start_s for a, b in zip(record.exclusive, record.exclusive[1:]))
    unmasked = make_record(raw, None, regions, DiarizationOptions(mask_with_vad=False), 12.0, {})
    assert unmasked.turns[-1].end_s == 12.0


def test_diarization_record_round_trips_through_json():
    record = make_record([T(0, 2, "a"), T(1, 3, "b")], None, None, DiarizationOptions(), 3.0, {"stage": "x"})
    again = Diarization.from_json(record.to_json())
    assert again == record
    data = record.to_json()
    assert data["speaker_count"] == 2 and data["overlap_duration_s"] == 1.0


def test_rttm_round_trip_and_names_without_spaces():
    turns = [T(0.5, 1.25, "SPEAKER_00"), T(2.0, 3.0, "SPEAKER_01")]
    text = to_rttm(turns, "my film", {"SPEAKER_01": "Mary Ann"})
    assert text.splitlines()[1] == "SPEAKER my_film 1 2.000 1.000 <NA> <NA> Mary_Ann <NA> <NA>"
    parsed = parse_rttm(text)["my_film"]
    assert [(t.start_s, t.end_s, t.speaker) for t in parsed] == [(0.5, 1.25, "SPEAKER_00"), (2.0, 3.0, "Mary_Ann")]
    with pytest.raises(ValueError, match="line 1"):
        parse_rttm("SPEAKER x 1 0.0")


def test_a_fragment_at_a_turn_change_does_not_make_the_first_speaker():
    turns = [T(6.73, 6.75, "b"), T(6.75, 7.2, "a"), T(7.6, 8.2, "b"), T(8.4, 9.8, "a")]
    relabelled, _, _ = relabel(turns, turns)
    assert relabelled[1] == T(6.75, 7.2, "SPEAKER_01")  # a's first turn is 0.45 s, b's at 7.6 s is 0.6 s
    turns = [T(6.73, 6.75, "b"), T(6.75, 7.5, "a"), T(7.6, 8.2, "b")]
    relabelled, _, _ = relabel(turns, turns)
    assert relabelled[1].speaker == "SPEAKER_00" and relabelled[0].speaker == "SPEAKER_01"
