"""Which of two translations of a segment to keep, and why: the stated criterion.

In order, the first that tells them apart decides:

1. **glossary compliance**: more of the segment's protected names and terms
   (those the first pass recorded) written as they must be;
2. **plausible length**: characters per source character within
   ``[min_length_ratio, max_length_ratio]``, and no repetition loop (a gzip
   compression ratio above 2.4, Whisper's own rule);
3. **model score**: the mean log-probability per token under the same
   context; the second pass must gain at least ``min_score_gain``.

Otherwise the first pass is kept: a refinement has to earn its place.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Sequence
from dataclasses import dataclass

LOOP_COMPRESSION_RATIO = 2.4
FUZZY_MIN_SCORE = 85.0


@dataclass(frozen=True)
class Candidate:
    text: str
    score: float | None  # mean log-probability per token under the shared context
    kept: int  # protected terms written as they must be
    plausible: bool
    length_ratio: float


def letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _pattern(term: str) -> re.Pattern[str]:
    body = r"[\s\-]*".join(re.escape(w) for w in re.split(r"[\s\-]+", term.strip()) if w)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def restore(text: str, spellings: Sequence[str]) -> tuple[str, list[dict]]:
    """Each term respelt where found as such or as a close run of words; a record per term."""
    from rapidfuzz import fuzz

    records = []
    for term in spellings:
        pattern = _pattern(term)
        if pattern.search(text):
            how = "verbatim" if all(m.group(0) == term for m in pattern.finditer(text)) else "respelt"
            text = pattern.sub(lambda _m, s=term: s, text)
            records.append({"term": term, "kept": True, "how": how})
            continue
        words = [(m.start(), m.end()) for m in re.finditer(r"\w+(?:['’\-]\w+)*", text)]
        size = max(1, len(term.split()))
        best, best_score = None, FUZZY_MIN_SCORE
        for n in {max(1, size - 1), size, size + 1}:
            for i in range(len(words) - n + 1):
                a, b = words[i][0], words[i + n - 1][1]
                score = fuzz.ratio(letters(text[a:b]), letters(term))
                if score >= best_score and (best is None or score > best_score):
                    best, best_score = (a, b), score
        if best is not None:
            text = text[:best[0]] + term + text[best[1]:]
            records.append({"term": term, "kept": True, "how": "fuzzy"})
        else:
            records.append({"term": term, "kept": False, "how": "missing"})
    return text, records


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(gzip.compress(data)) if data else 0.0


def candidate(text: str, source: str, score: float | None, kept: int, min_ratio: float, max_ratio: float) -> Candidate:
    ratio = len(text.strip()) / max(1, len(source.strip()))
    plausible = bool(text.strip()) and min_ratio <= ratio <= max_ratio and compression_ratio(text) <= LOOP_COMPRESSION_RATIO
    return Candidate(text, score, kept, plausible, round(ratio, 3))


def choose(first: Candidate, second: Candidate, protected: int, min_gain: float) -> tuple[str, str]:
    """("first" or "second", the reason in words)."""
    if first.kept != second.kept:
        winner = "second" if second.kept > first.kept else "first"
        return winner, (f"glossary compliance: the {winner} pass keeps {max(first.kept, second.kept)} of {protected} "
                        f"protected term(s), the other {min(first.kept, second.kept)}")
    if first.plausible != second.plausible:
        winner = "second" if second.plausible else "first"
        loser = first if winner == "second" else second
        why = ("a repetition loop" if compression_ratio(loser.text) > LOOP_COMPRESSION_RATIO
               else f"a length ratio of {loser.length_ratio}" if loser.text.strip() else "no text")
        return winner, f"plausible length: the other pass has {why}"
    if first.score is not None and second.score is not None:
        gain = second.score - first.score
        if gain >= min_gain:
            return "second", f"model score with context: {second.score:.3f} against {first.score:.3f} (gain {gain:.3f})"
        return "first", f"model score with context: the second pass gains {gain:.3f}, less than {min_gain}"
    return "first", "no score to compare: the first pass is kept"
