"""Accuracy metrics shared by tests, `make eval` and the benchmarks."""

from __future__ import annotations

import re
import unicodedata

_NUMBER_WORDS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
                 "6": "six", "7": "seven", "8": "eight", "9": "nine", "10": "ten"}


def normalize_text(text: str) -> str:
    """Lower case, no punctuation, single spaces, small numbers spelled out."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[’']", "", text)
    text = re.sub(r"[^\w\s]", " ", text)
    words = [_NUMBER_WORDS.get(w, w) for w in text.split()]
    return " ".join(words)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Normalized WER: (substitutions + deletions + insertions) / reference words."""
    ref, hyp = normalize_text(reference).split(), normalize_text(hypothesis).split()
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1] / len(ref)
