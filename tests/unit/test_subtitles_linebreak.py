"""Line breaking inside a cue."""

from __future__ import annotations

from stages.subtitles.cues import Cue, CueWord
from stages.subtitles.linebreak import LineMeter, break_lines, greedy_line_sizes


def words(text: str) -> tuple[CueWord, ...]:
    return tuple(CueWord(k, k * 300, k * 300 + 250, t) for k, t in enumerate(text.split()))


def lines(text: str, max_chars: int = 42, max_lines: int = 2) -> tuple[str, ...]:
    ws = words(text)
    return Cue(0, 1, ws, break_lines(ws, max_chars, max_lines)).lines


def test_a_cue_that_fits_stays_on_one_line():
    assert lines("I made coffee and toast for both of us.") == ("I made coffee and toast for both of us.",)


def test_lines_are_balanced():
    assert lines("but you slept so long that it all went cold.") == ("but you slept so long", "that it all went cold.")


def test_breaks_after_punctuation_when_lines_stay_reasonable():
    assert lines("We waited all night, and nobody came back for us") == ("We waited all night,", "and nobody came back for us")


def test_avoids_a_one_word_orphan_line():
    text = "absolutely everyone here knows this already ok"
    greedy = greedy_line_sizes(words(text), 43)
    assert greedy[-1] == 1  # filling lines greedily would leave "ok" alone
    assert all(len(line.split()) > 1 for line in lines(text, 43))


def test_uses_the_fewest_lines_that_fit():
    text = "one two three four five six seven eight nine ten eleven twelve"
    assert len(lines(text, 20, 4)) == len(greedy_line_sizes(words(text), 20)) == 4
    assert all(len(line) <= 20 for line in lines(text, 20, 4))


def test_a_word_longer_than_a_line_is_kept_whole():
    assert lines("Supercalifragilisticexpialidocious", 10) == ("Supercalifragilisticexpialidocious",)


def test_avoids_breaking_between_glued_words():
    ws = (CueWord(0, 0, 1, "aaaa"), CueWord(1, 1, 2, "bbbb"), CueWord(2, 2, 3, "cc", glued=True), CueWord(3, 3, 4, "dddd"))
    sizes = break_lines(ws, 12, 2)
    assert Cue(0, 1, ws, sizes).lines == ("aaaa bbbbcc", "dddd")


def test_line_meter_matches_joining():
    ws = (CueWord(0, 0, 1, "ab"), CueWord(1, 1, 2, "c", glued=True), CueWord(2, 2, 3, "def"))
    meter = LineMeter(ws)
    assert [meter.length(0, k) for k in range(4)] == [0, 2, 3, 7]
    assert meter.length(1, 3) == len("c def")
