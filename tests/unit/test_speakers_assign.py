"""Words to speakers through the interval index."""

from __future__ import annotations

import random
import time

import pytest

from shared.speakers import GAP, INSIDE, NO_SPEAKER, OVERLAP, Turn
from stages.speakers.assign import TurnIndex, display_names

TURNS = [Turn(0.0, 2.0, "A"), Turn(2.0, 5.0, "B"), Turn(6.0, 8.0, "A"), Turn(12.0, 13.0, "B")]


def test_a_word_inside_a_turn_gets_its_speaker():
    index = TurnIndex(TURNS)
    assert index.assign(0.5, 0.9).speaker == "A" and index.assign(0.5, 0.9).how == INSIDE
    assert index.assign(6.1, 6.4).speaker == "A"


def test_a_word_across_a_change_of_speaker_takes_the_longer_share_and_is_flagged():
    found = TurnIndex(TURNS).assign(1.8, 2.5)
    assert found.speaker == "B" and found.how == OVERLAP
    found = TurnIndex(TURNS).assign(1.5, 2.1)
    assert found.speaker == "A" and found.how == OVERLAP


def test_a_word_in_overlapped_speech_is_flagged():
    index = TurnIndex(TURNS, overlaps=[(3.0, 3.5)])
    found = index.assign(3.2, 3.4)
    assert found.speaker == "B" and found.how == OVERLAP
    assert index.assign(4.0, 4.5).how == INSIDE


def test_a_word_in_a_gap_gets_the_nearest_turn():
    index = TurnIndex(TURNS)
    found = index.assign(5.2, 5.4)  # 0.2 s after B ends, 0.6 s before A starts
    assert (found.speaker, found.how) == ("B", GAP) and found.distance_s == pytest.approx(0.2)
    assert index.assign(11.0, 11.5).speaker == "B"  # 0.5 s before B
    assert index.assign(20.0, 21.0).speaker == "B"  # after the last turn
    assert TurnIndex([Turn(5.0, 6.0, "C")]).assign(0.0, 0.5).speaker == "C"  # before the first


def test_a_word_with_no_duration_is_looked_up_at_its_time():
    assert TurnIndex(TURNS).assign(6.5, 6.5).speaker == "A"


def test_no_turns_means_no_speaker():
    found = TurnIndex([]).assign(1.0, 2.0)
    assert (found.speaker, found.how) == ("", NO_SPEAKER)


def test_overlapping_exclusive_turns_are_refused():
    with pytest.raises(ValueError, match="overlap"):
        TurnIndex([Turn(0, 2, "A"), Turn(1, 3, "B")])


def test_lookups_do_not_scan_every_turn():
    """10^5 turns and 10^4 words: an index answers in well under a second (a scan would take minutes)."""
    rng = random.Random(4)
    turns, t = [], 0.0
    for k in range(100_000):
        d = rng.uniform(0.2, 3.0)
        turns.append(Turn(t, t + d, f"S{k % 7}"))
        t += d + rng.uniform(0.0, 0.5)
    index = TurnIndex(turns)
    words = sorted(rng.uniform(0, t) for _ in range(10_000))
    started = time.perf_counter()
    found = [index.assign(w, w + 0.3) for w in words]
    assert time.perf_counter() - started < 2.0
    assert all(f.speaker for f in found)
    # the index agrees with a brute-force answer on a sample
    for w, f in list(zip(words, found))[:200]:
        shares = {}
        for turn in turns:
            share = min(turn.end_s, w + 0.3) - max(turn.start_s, w)
            if share > 0:
                shares[turn.speaker] = shares.get(turn.speaker, 0.0) + share
        if shares:
            assert shares[f.speaker] == pytest.approx(max(shares.values()))


def test_display_names_use_metadata_then_numbers():
    names = display_names(("SPEAKER_00", "SPEAKER_01", "SPEAKER_02"), {"SPEAKER_01": "Diane", "SPEAKER_09": "X"})
    assert names == {"SPEAKER_00": "Speaker 1", "SPEAKER_01": "Diane", "SPEAKER_02": "Speaker 3"}
