"""Breaks that would split a phrase cost more: after a word leading into the next
(English) or inside a name; line breaking and cue layout both avoid them."""

from __future__ import annotations

from shared.options.subtitles import SubtitleOptions
from stages.subtitles.cues import CueWord
from stages.subtitles.layout import layout
from stages.subtitles.linebreak import break_lines
from stages.subtitles.phrases import LEADING_WORDS, language_key, split_costs


def said(text: str, start_ms: int = 0, step_ms: int = 300) -> list[CueWord]:
    return [CueWord(k, start_ms + k * step_ms, start_ms + k * step_ms + 250, w) for k, w in enumerate(text.split())]


def costs(text: str, language: str = "en") -> dict[str, float]:
    words = said(text)
    return {f"{w.text}|{words[k + 1].text}": c for k, (w, c) in enumerate(zip(words, split_costs(words, language))) if c}


def test_leading_words_and_names_cost_and_punctuation_frees_them():
    found = costs("Yesterday Diane called Sheila in New Jersey, and my friend waited.")
    assert set(found) == {"in|New", "New|Jersey,", "and|my", "my|friend"}
    assert found["New|Jersey,"] > found["in|New"]  # a name split is the worse of the two
    assert costs("I saw the light in, then out.") == {"the|light": costs("I saw the light in, then out.")["the|light"]}


def test_other_languages_keep_the_name_rule_only():
    assert costs("Er wohnt in New Jersey seit Jahren", "de") == {"New|Jersey": costs("x New Jersey", "en")["New|Jersey"]}
    assert language_key("eng") == language_key("en-US") == "en" and "en" in LEADING_WORDS


def test_sentence_starts_and_pronoun_i_are_not_names():
    assert costs("Done. Yesterday it rained. I Think so") == {}


def test_a_line_does_not_end_inside_new_jersey_or_on_in():
    words = said("I called my sister Diane in New Jersey yesterday about the car")
    plain = break_lines(words, 40, 2)
    english = break_lines(words, 40, 2, "en")
    assert words[plain[0] - 1].text in ("in", "New")  # the most balanced lines split the phrase
    assert english == (5, 7)  # "I called my sister Diane / in New Jersey yesterday about the car"


def test_a_cue_does_not_end_on_my():
    words = said("And so my fellow Americans ask not what your country can do for you ask what you can do "
                 "for your country", step_ms=250)
    options = SubtitleOptions(max_chars_per_line=22, max_lines=1)
    cues = layout(words, options, None, language="en")
    ends = [c.words[-1].text for c in cues[:-1]]
    assert not [e for e in ends if e in LEADING_WORDS["en"]], ends
    assert [w.text for c in cues for w in c.words] == [w.text for w in words]
