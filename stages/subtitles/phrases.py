"""Where a break would split a phrase: the extra cost of ending a line or a cue
after a word.

Subtitle style guides (Netflix's among them) ask that a line, and even more a
subtitle, not end on a word that leads into the next one: an article, a
preposition, a possessive, a conjunction ("Diane in / New Jersey", "And so my /
fellow Americans"), nor split a name ("Sheila / Smith", "New / Jersey"). The leading
words are listed per language (English for now: with another language only the
name rule applies). A name is two capitalised words in a row, the first one not
starting a sentence (where every word is capitalised) and not "I".

Both costs are soft: layout and line breaking weigh them against line length,
balance and reading speed, and a break after punctuation never pays them.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.languages import to_iso639_1
from stages.subtitles.cues import NO_BREAK, SENTENCE_END, CueWord, break_class

LEADING_WORD_COST = 1.0  # in units of the caller's own scale (see layout and linebreak)
NAME_SPLIT_COST = 1.5

# Words that lead into what follows: articles, prepositions, possessive determiners,
# conjunctions, the infinitive "to". Lowercase, without punctuation.
LEADING_WORDS = {
    "en": frozenset("""
        a an the
        of in on at to for with from by into onto upon about as than like over under after before
        between through during without within against among toward towards across behind beyond near
        my your his her its our their whose this that these those
        and or but nor
        """.split()),
}
_NOT_NAMES = frozenset({"I", "I'm", "I'll", "I've", "I'd", "OK", "Okay"})


def language_key(language: str) -> str:
    """``en`` for ``en``, ``eng``, ``en-US`` ...: the ISO 639-1 code, region dropped."""
    return to_iso639_1((language or "").replace("_", "-").split("-")[0])


def _capitalised(text: str) -> bool:
    core = text.strip("\"'“”‘’([¿¡")
    return bool(core) and core[0].isupper() and core not in _NOT_NAMES


def split_costs(words: Sequence[CueWord], language: str) -> list[float]:
    """``costs[k]``: what breaking between words[k] and words[k + 1] splits (0.0 for the last)."""
    leading = LEADING_WORDS.get(language_key(language), frozenset())
    costs = [0.0] * len(words)
    for k in range(len(words) - 1):
        word, following = words[k], words[k + 1]
        if break_class(word.text) != NO_BREAK:
            continue  # punctuation: the phrase ends here
        if word.text.lower() in leading:
            costs[k] += LEADING_WORD_COST
        starts_sentence = k == 0 or break_class(words[k - 1].text) == SENTENCE_END
        if not starts_sentence and _capitalised(word.text) and _capitalised(following.text):
            costs[k] += NAME_SPLIT_COST
    return costs
