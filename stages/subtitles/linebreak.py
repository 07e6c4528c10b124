"""Cue text to lines: the fewest lines that fit, then the best places to break.

A cue that fits on one line stays on one line. Otherwise it gets the fewest
lines that fit (what filling lines greedily needs), and among those layouts
the one that breaks after punctuation, keeps lines balanced, avoids a
one-word orphan line, avoids breaking between glued words and avoids ending
a line on a word that leads into the next or inside a name
(:mod:`stages.subtitles.phrases`). Lines are made
of whole words; a word longer than a line gets a line of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from stages.subtitles.cues import CLAUSE_END, SENTENCE_END, CueWord, break_class
from stages.subtitles.phrases import split_costs

# Costs, relative to one another (lower is better).
BALANCE_WEIGHT = 10.0  # times the squared deviation from equal lines, as a fraction of the line limit
ORPHAN_COST = 3.0  # a line of one word when the cue has words to spare
GLUED_COST = 6.0  # breaking between two words Whisper wrote without a space
PUNCTUATION_BONUS = {SENTENCE_END: -3.0, CLAUSE_END: -2.0}
PHRASE_SPLIT_WEIGHT = 2.5  # times phrases.split_costs: a line ending on "in" or inside "New Jersey"


class LineMeter:
    """Lengths of runs of words, in O(1) each: ``length(a, b)`` is the
    length of words[a:b] joined on one line."""

    def __init__(self, words: Sequence[CueWord]):
        self.text_prefix = [0]
        self.space_prefix = [0]  # spaces before words[0:k]
        for k, word in enumerate(words):
            self.text_prefix.append(self.text_prefix[-1] + len(word.text))
            self.space_prefix.append(self.space_prefix[-1] + (1 if k and not word.glued else 0))

    def length(self, a: int, b: int) -> int:
        if b <= a:
            return 0
        return self.text_prefix[b] - self.text_prefix[a] + self.space_prefix[b] - self.space_prefix[a + 1]


def greedy_line_sizes(words: Sequence[CueWord], max_chars: int) -> list[int]:
    """Fill each line as far as it goes: the fewest lines possible."""
    sizes: list[int] = []
    line_len = 0
    for word in words:
        sep = 0 if word.glued else 1
        if sizes and line_len + sep + len(word.text) <= max_chars:
            sizes[-1] += 1
            line_len += sep + len(word.text)
        else:
            sizes.append(1)
            line_len = len(word.text)
    return sizes


def break_lines(words: Sequence[CueWord], max_chars: int, max_lines: int, language: str = "") -> tuple[int, ...]:
    """Words per line for one cue (see the module docstring); ``language`` chooses the
    words a line should not end on."""
    n = len(words)
    if n == 0:
        return ()
    meter = LineMeter(words)
    total = meter.length(0, n)
    if total <= max_chars or n == 1:
        return (n,)
    greedy = greedy_line_sizes(words, max_chars)
    count = len(greedy)
    if count > max_lines or count == 1:
        return tuple(greedy)  # layout never asks for this; report it rather than fail
    ideal = total / count
    spare = n > count
    splits = split_costs(words, language)
    inf = float("inf")
    # best[l][b]: cost of laying words[0:b] on l lines; prev[l][b]: where line l starts
    best = [[inf] * (n + 1) for _ in range(count + 1)]
    prev = [[-1] * (n + 1) for _ in range(count + 1)]
    best[0][0] = 0.0
    for lines in range(1, count + 1):
        for b in range(lines, n + 1):
            for a in range(b - 1, lines - 2, -1):
                length = meter.length(a, b)
                if length > max_chars and b - a > 1:
                    break  # longer runs only get longer
                if best[lines - 1][a] == inf:
                    continue
                cost = best[lines - 1][a] + _line_cost(words, splits, a, b, length, ideal, max_chars, spare)
                if cost < best[lines][b]:
                    best[lines][b] = cost
                    prev[lines][b] = a
    if best[count][n] == inf:
        return tuple(greedy)
    sizes, b = [], n
    for lines in range(count, 0, -1):
        a = prev[lines][b]
        sizes.append(b - a)
        b = a
    return tuple(reversed(sizes))


def _line_cost(words: Sequence[CueWord], splits: Sequence[float], a: int, b: int, length: int, ideal: float,
               max_chars: int, spare: bool) -> float:
    cost = BALANCE_WEIGHT * ((length - ideal) / max_chars) ** 2
    if b - a == 1 and spare:
        cost += ORPHAN_COST
    if b < len(words):  # a break follows this line
        cost += PUNCTUATION_BONUS.get(break_class(words[b - 1].text), 0.0)
        if words[b].glued:
            cost += GLUED_COST
        cost += PHRASE_SPLIT_WEIGHT * splits[b - 1]
    return cost
