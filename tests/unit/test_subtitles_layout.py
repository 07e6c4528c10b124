"""Cue breaks: pauses, sentence and clause ends, hard limits, long words."""

from __future__ import annotations

from shared.options.subtitles import SubtitleOptions
from stages.subtitles.cues import CueWord
from stages.subtitles.layout import layout

DEFAULT = SubtitleOptions()


def speak(text: str, start_ms: int = 0, step_ms: int = 350, dur_ms: int = 300, pauses: dict[int, int] | None = None):
    """Words every ``step_ms``; ``pauses`` adds silence before word k."""
    out, t = [], start_ms
    for k, word in enumerate(text.split()):
        t += (pauses or {}).get(k, 0)
        out.append(CueWord(k, t, t + dur_ms, word))
        t += step_ms
    return out


def texts(cues) -> list[str]:
    return [cue.plain for cue in cues]


def test_no_words_no_cues():
    assert layout([], DEFAULT) == []


def test_a_long_pause_always_ends_a_cue():
    words = speak("I was going to say something", pauses={3: 450})  # 500 ms of silence before "to"
    assert texts(layout(words, DEFAULT)) == ["I was going", "to say something"]
    assert texts(layout(words, SubtitleOptions(pause_break_ms=501))) == ["I was going to say something"]


def test_separate_sentences_get_separate_cues():
    words = speak("Good morning. Did you sleep well?", pauses={2: 300})
    assert texts(layout(words, DEFAULT)) == ["Good morning.", "Did you sleep well?"]


def test_a_sentence_too_short_to_read_shares_a_cue():
    words = speak("Good morning. Did you sleep well?")  # no time to show "Good morning." alone
    assert texts(layout(words, DEFAULT)) == ["Good morning. Did you sleep well?"]
    words = speak("Yes. No. Maybe. Then we go home.", step_ms=200, dur_ms=180)
    assert texts(layout(words, DEFAULT)) == ["Yes. No. Maybe. Then we go home."]


def test_a_sentence_too_long_for_one_cue_breaks_at_its_clause():
    words = speak("I made coffee and toast for both of us, but you slept so long that it all went cold.")
    assert texts(layout(words, DEFAULT)) == ["I made coffee and toast for both of us,",
                                             "but you slept so long that it all went cold."]


def test_a_break_prefers_the_sentence_end_over_a_fuller_cue():
    words = speak("We should leave now. The car is waiting outside for us and the driver is getting impatient")
    cues = layout(words, DEFAULT)
    assert cues[0].plain == "We should leave now."


def test_cues_fit_the_lines_and_the_maximum_duration():
    words = speak(" ".join(["word"] * 60), step_ms=200, dur_ms=190)
    options = SubtitleOptions(max_chars_per_line=20, max_lines=2, max_duration_ms=3000)
    cues = layout(words, options)
    assert sum(len(c.words) for c in cues) == 60
    for cue in cues:
        assert len(cue.lines) <= 2 and all(len(line) <= 20 for line in cue.lines)
        assert cue.end_ms - cue.start_ms <= 3000


def test_a_word_longer_than_a_line_stands_alone():
    words = speak("It is pneumonoultramicroscopicsilicovolcanoconiosis they said")
    cues = layout(words, SubtitleOptions(max_chars_per_line=20))
    assert texts(cues) == ["It is", "pneumonoultramicroscopicsilicovolcanoconiosis", "they said"]


def test_natural_times_come_from_the_words():
    words = speak("Hello there.", start_ms=1000)
    (cue,) = layout(words, DEFAULT)
    assert (cue.start_ms, cue.end_ms) == (1000, 1650)


def test_progress_goes_through_the_hook():
    calls = []
    layout(speak(" ".join(["a"] * 50)), DEFAULT, hook=lambda step, done, total=None: calls.append((step, done, total)))
    assert calls[0] == ("layout", 0, 50) and calls[-1] == ("layout", 50, 50)


def test_a_pause_whisper_hid_inside_the_next_word_still_invites_the_break():
    """tiny.en on jfk.flac without alignment: "ask" runs from 2.21 s to 3.89 s over the
    pause after "Americans"; the cue should end there, not after "fellow"."""
    from stages.subtitles.layout import pauses_before

    times = [("And", 152, 752), ("so", 752, 1092), ("my", 1092, 1472), ("fellow", 1472, 1752),
             ("Americans", 1752, 2212), ("ask", 2212, 3888), ("not", 3888, 4488), ("what", 4488, 4768),
             ("your", 4768, 5088), ("country", 5088, 5588), ("can", 5588, 5868), ("do", 5868, 6068),
             ("for", 6068, 6408), ("you.", 6408, 7708)]
    words = [CueWord(k, a, b, t) for k, (t, a, b) in enumerate(times)]
    assert pauses_before(words)[5] > 500 and pauses_before(words)[4] <= 0
    cues = layout(words, SubtitleOptions(), None, language="en")
    assert [c.words[-1].text for c in cues] == ["Americans", "you."]


def test_a_hidden_pause_never_forces_a_break():
    words = [CueWord(0, 0, 300, "Wait"), CueWord(1, 300, 2500, "here.")]  # a drawn-out word, no real gap
    assert len(layout(words, SubtitleOptions(), None)) == 1


def test_a_speaker_label_counts_in_reading_speed_as_qc_counts_it():
    # (silence before, spoken ms) per word; alone, the first sentence reads fine, but with a
    # 12-character "[Name] " label it would be too fast: with the label, one cue shares the time
    timing = [(0, 212), (50, 155), (50, 252), (0, 218), (450, 372), (0, 336), (0, 155), (0, 224), (150, 276),
              (300, 370), (50, 175), (450, 349), (150, 169), (450, 393)]
    texts = "Well, I said we should go. To the station, before the train leaves tonight.".split()
    words, at = [], 0
    for k, (text, (silence, spoken)) in enumerate(zip(texts, timing)):
        at += silence
        words.append(CueWord(k, at, at + spoken, text))
        at += spoken
    plain = [c.plain for c in layout(words, SubtitleOptions(), 6056)]
    labelled = [c.plain for c in layout(words, SubtitleOptions(), 6056, lead_chars=len("[Speaker 1] "))]
    assert plain == ["Well, I said we should go.", "To the station, before the train leaves tonight."]
    assert labelled == [" ".join(texts)]
