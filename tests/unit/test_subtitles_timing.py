"""Cue timing: minimum duration, reading speed, gaps, no overlap."""

from __future__ import annotations

import dataclasses

from shared.options.subtitles import SubtitleOptions
from stages.subtitles.cues import Cue, CueWord
from stages.subtitles.timing import retime, wanted_duration_ms

DEFAULT = SubtitleOptions()  # 833-7000 ms, 17 target, 83 ms gap


def cue(text: str, start_ms: int, end_ms: int) -> Cue:
    return Cue(start_ms, end_ms, (CueWord(0, start_ms, end_ms, text),), (1,))


def times(cues) -> list[tuple[int, int]]:
    return [(c.start_ms, c.end_ms) for c in cues]


def test_wanted_duration():
    assert wanted_duration_ms(cue("Hi.", 0, 1), DEFAULT) == 833
    assert wanted_duration_ms(cue("x" * 34, 0, 1), DEFAULT) == 2000
    assert wanted_duration_ms(cue("x" * 500, 0, 1), DEFAULT) == 7000


def test_a_short_cue_is_extended_to_the_minimum_into_the_silence_after():
    assert times(retime([cue("Hi.", 1000, 1300)], DEFAULT)) == [(1000, 1833)]


def test_a_fast_cue_is_extended_toward_the_target_speed_but_leaves_the_gap():
    cues = [cue("x" * 34, 0, 1000), cue("next", 1500, 2400)]  # 34 chars want 2 s at 17 chars/s
    assert times(retime(cues, DEFAULT))[0] == (0, 1500 - 83)
    cues = [cue("x" * 34, 0, 1000), cue("next", 5000, 6000)]
    assert times(retime(cues, DEFAULT))[0] == (0, 2000)


def test_contiguous_cues_are_trimmed_to_the_minimum_gap():
    cues = [cue("x" * 40, 0, 3000), cue("y" * 40, 3000, 6000)]
    assert times(retime(cues, DEFAULT)) == [(0, 2917), (3000, 6000)]


def test_overlapping_words_never_make_overlapping_cues():
    cues = [cue("x" * 40, 0, 3500), cue("y" * 40, 3000, 6000)]
    out = retime(cues, DEFAULT)
    assert out[0].end_ms <= out[1].start_ms - 83


def test_a_short_cue_starts_earlier_when_the_silence_is_before_it():
    cues = [cue("before", 0, 1000), cue("Hi.", 3000, 3300), cue("after", 3400, 4400)]
    out = retime(cues, DEFAULT)
    assert times(out)[1] == (3317 - 833, 3317)
    assert out[1].start_ms >= out[0].end_ms + 83


def test_a_start_never_goes_below_zero():
    out = retime([cue("Hi.", 100, 200), cue("after", 300, 1300)], DEFAULT)
    assert out[0].start_ms == 0


def test_the_gap_gives_way_before_a_cue_shrinks_below_its_spoken_time_and_the_minimum():
    cues = [cue("a", 0, 400), cue("b", 420, 900), cue("c", 920, 1700)]
    out = retime(cues, DEFAULT)
    assert times(out)[1] == (420, 900)  # spoken 480 ms, no silence to take: the gap to "c" is only 20 ms
    assert all(a.end_ms <= b.start_ms for a, b in zip(out, out[1:]))


def test_the_last_cue_does_not_run_past_the_media():
    # no room after it: the minimum duration is found before it instead
    assert times(retime([cue("Hi.", 1000, 1300)], DEFAULT, end_limit_ms=1500)) == [(1500 - 833, 1500)]
    # a media end before the last word ends does not cut the word
    assert times(retime([cue("Hi.", 1000, 1300)], DEFAULT, end_limit_ms=1200)) == [(1300 - 833, 1300)]


def test_a_word_spoken_longer_than_the_maximum_keeps_its_time():
    assert times(retime([cue("Nooooo", 0, 9000)], DEFAULT)) == [(0, 9000)]


def test_empty():
    assert retime([], DEFAULT) == []


def speed(c) -> float:
    return c.chars * 1000 / (c.end_ms - c.start_ms)


def test_a_cue_over_the_cap_starts_earlier_into_the_silence_before_it():
    # 30 chars spoken in 1.2 s (25 chars/s) right before the next cue: no room after, silence before
    cues = [cue("before", 0, 900), cue("x" * 30, 2000, 3200), cue("after", 3283, 4200)]
    out = retime(cues, DEFAULT)
    assert out[1].end_ms == 3200 and speed(out[1]) <= DEFAULT.max_chars_per_s
    assert out[1].start_ms >= 2000 - DEFAULT.max_lead_in_ms and out[1].start_ms >= out[0].end_ms + 83


def test_a_cue_over_the_cap_never_starts_more_than_the_lead_in_before_its_speech():
    cues = [cue("x" * 40, 5000, 6000), cue("after", 6083, 7000)]  # needs 2 s at 20 chars/s
    out = retime(cues, DEFAULT)
    assert out[0].start_ms == 5000 - DEFAULT.max_lead_in_ms and out[0].end_ms == 6000


def test_a_slower_cue_before_gives_back_time_it_does_not_need():
    # "before" was extended toward the target into the silence; the fast cue needs some of it
    cues = [cue("x" * 20, 0, 800), cue("y" * 26, 1400, 2400), cue("after", 2483, 3300)]
    out = retime(cues, DEFAULT)
    assert speed(out[1]) <= DEFAULT.max_chars_per_s
    assert out[0].end_ms >= 833 and speed(out[0]) <= DEFAULT.max_chars_per_s  # it keeps its own rules
    assert retime(cues[:1], DEFAULT)[0].end_ms > out[0].end_ms
    assert out[1].start_ms >= out[0].end_ms + 83 and out[1].start_ms >= 1400 - DEFAULT.max_lead_in_ms


# --- step 8: re-split -----------------------------------------------------------------------------


def _cue(words, prefixes=()) -> Cue:
    from stages.subtitles.linebreak import break_lines
    return Cue(words[0].start_ms, max(w.end_ms for w in words), tuple(words), break_lines(words, 42, 2),
               line_prefixes=prefixes)


def _word(index: int, text: str, start_ms: int, end_ms: int, speaker: str = "") -> CueWord:
    return CueWord(index, start_ms, end_ms, text, speaker=speaker)


FAST = [_word(1, "Absolutely,", 1000, 1150), _word(2, "it", 1150, 1300), _word(3, "is", 1300, 1450),
        _word(4, "fine.", 1450, 1700)]


def test_a_cue_over_the_cap_hands_a_word_to_the_cue_before_when_that_reads_fine():
    cues = [_cue([_word(0, "Right.", 0, 600)]), _cue(FAST), _cue([_word(5, "Next.", 1800, 2600)])]
    before = retime(cues, SubtitleOptions(resplit=False), 5000)
    assert [c.plain for c in before] == ["Right.", "Absolutely, it is fine.", "Next."]
    assert before[1].chars_per_s() > 20
    after = retime(cues, DEFAULT, 5000)
    assert [c.plain for c in after] == ["Right. Absolutely,", "it is fine.", "Next."]
    assert all(c.chars_per_s() <= DEFAULT.max_chars_per_s for c in after)
    from stages.subtitles import qc
    assert {(v.rule) for v in qc.check(after, DEFAULT)} <= {v.rule for v in qc.check(before, DEFAULT)}


def test_a_neighbour_is_never_made_too_fast_nor_words_moved_between_speakers():
    busy = _cue([_word(0, "Right", 0, 300), _word(9, "then,", 300, 800)])  # ends just before: no room to give
    cues = [busy, _cue(FAST), _cue([_word(5, "Next.", 1800, 2600)])]
    after = retime(cues, DEFAULT, 5000)
    assert [c.plain for c in after] == [c.plain for c in cues]
    other = [_cue([_word(0, "Right.", 0, 400, "Ann")], ("[Ann] ",)),
             _cue([dataclasses.replace(w, speaker="Bob") for w in FAST], ("[Bob] ",)),
             _cue([_word(5, "Next.", 1800, 2600, "Ann")], ("[Ann] ",))]
    assert [c.plain for c in retime(other, DEFAULT, 5000)] == [c.plain for c in other]


def test_resplit_can_be_switched_off():
    cues = [_cue([_word(0, "Right.", 0, 600)]), _cue(FAST), _cue([_word(5, "Next.", 1800, 2600)])]
    assert [c.plain for c in retime(cues, SubtitleOptions(resplit=False), 5000)] == \
        ["Right.", "Absolutely, it is fine.", "Next."]


def test_resplit_leaves_fewer_cues_over_the_cap_and_breaks_nothing_else_more_often():
    import random
    from collections import Counter

    from stages.subtitles import qc
    from stages.subtitles.layout import layout

    over_before = over_after = 0
    for seed in range(8):
        rng = random.Random(seed)
        words, at = [], 0
        for k in range(400):
            at += rng.choice((0, 20, 40, 90, 200, 700))
            spoken = rng.randint(100, 350)
            words.append(CueWord(k, at, at + spoken, "w" * rng.randint(2, 9) + rng.choice(("", "", ",", "."))))
            at += spoken
        cues = layout(words, DEFAULT, at + 1000)
        before = Counter(v.rule for v in qc.check(retime(cues, SubtitleOptions(resplit=False), at + 1000), DEFAULT))
        timed = retime(cues, DEFAULT, at + 1000)
        after = Counter(v.rule for v in qc.check(timed, DEFAULT))
        assert after["max_chars_per_s"] <= before["max_chars_per_s"]
        assert all(after[rule] <= before[rule] for rule in after if rule != "max_chars_per_s"), (seed, before, after)
        assert [w.index for c in timed for w in c.words] == list(range(400))  # every word once, in order
        assert all(c.start_ms < c.end_ms for c in timed)
        over_before += before["max_chars_per_s"]
        over_after += after["max_chars_per_s"]
    assert over_after < over_before, (over_before, over_after)
