"""Names and glossary terms that translation must not change.

Which: every glossary entry (written as its preferred spelling), the
characters and actors of the cast, the metadata's terms, and person names
pre-ner found in the synopsis with a weight of at least ``MIN_WEIGHT``.
Places and the title are not protected: they often have a name of their own
in the target language (Germany, Alemania) or are ordinary words.

How, per segment: a term is protected when one of its forms (the spelling,
a glossary alias, one word of a person's full name) occurs in the source
text. The source given to a model carries the preferred spelling. In the
translation a term counts as kept when its spelling is there (case, spacing
and punctuation aside); otherwise an alias, or the closest run of words
(rapidfuzz, at least ``FUZZY_MIN_SCORE``), is replaced by the spelling.
A term still missing after that is reported, and the MT backend decodes the
segment again with the term forced into the output (stages/translation/mt.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.fsio import read_json
from shared.metadata import load_glossary, load_metadata

MIN_WEIGHT = 0.8  # pre-ner entities below this (synopsis-only guesses) are not forced on a translation
FUZZY_MIN_SCORE = 85.0  # rapidfuzz ratio for taking a run of translated words for a misspelt term
PROTECTED_SOURCES = ("glossary", "cast.character", "cast.actor", "terms", "synopsis")
PROTECTED_LABELS = ("PERSON", "TERM", "ORG", "PRODUCT", "NORP", "")
HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "dr", "doctor", "sir", "lady", "lord", "captain", "professor",
                        "the", "de", "la", "le", "van", "von", "der"})


@dataclass(frozen=True)
class Term:
    spelling: str  # how it must be written in every language
    aliases: tuple[str, ...]  # other ways it may be written or heard (glossary), replaced by the spelling
    parts: tuple[str, ...]  # single words of a person's full name: kept as they are ("Hanna")
    kind: str  # glossary, person, term

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.spelling, *self.aliases, *self.parts)


def letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _person_parts(name: str) -> list[str]:
    parts = []
    words = name.split()
    if len(words) > 1:
        for word in words:
            word = word.strip(".,")
            if len(letters(word)) >= 3 and word[:1].isupper() and letters(word) not in HONORIFICS:
                parts.append(word)
    return parts


def _term(spelling: str, kind: str, aliases: Iterable[str] = ()) -> Term:
    def key(form: str) -> str:
        return " ".join(form.casefold().split())

    seen = {key(spelling)}
    unique_aliases, parts = [], []
    for alias in aliases:
        if letters(alias) and key(alias) not in seen:  # "comfy ui" is another form of "ComfyUI"
            seen.add(key(alias))
            unique_aliases.append(alias)
    for part in (_person_parts(spelling) if kind == "person" else []):
        if key(part) not in seen:
            seen.add(key(part))
            parts.append(part)
    return Term(spelling, tuple(unique_aliases), tuple(parts), kind)


def from_entities(data: dict[str, Any]) -> list[Term]:
    """Terms from pre-ner's entities.json."""
    out = []
    for e in data.get("entities", []):
        sources = set(e.get("sources", ())) | {e.get("source", "")}
        if float(e.get("weight", 0.0)) < MIN_WEIGHT and "glossary" not in sources:
            continue
        if not sources & set(PROTECTED_SOURCES) or e.get("label", "") not in PROTECTED_LABELS:
            continue
        kind = "glossary" if "glossary" in sources else "person" if e.get("label") == "PERSON" else "term"
        out.append(_term(e["text"], kind, e.get("aliases", ())))
    return dedupe(out)


def from_job_files(metadata_path: Path | None, glossary_path: Path | None) -> list[Term]:
    """Terms straight from metadata.json and glossary.tsv (pre-ner switched off)."""
    out = []
    if glossary_path is not None:
        out += [_term(g.spelling, "glossary", (g.term, *g.aliases)) for g in load_glossary(glossary_path)]
    if metadata_path is not None:
        metadata = load_metadata(metadata_path)
        for member in metadata.cast:
            out += [_term(n, "person") for n in (member.character, member.actor) if n]
        out += [_term(t, "term") for t in metadata.terms]
    return dedupe(out)


def load_terms(inputs: dict[str, Path]) -> tuple[list[Term], str]:
    if "entities" in inputs:
        return from_entities(read_json(inputs["entities"])), "pre-ner entities"
    if "metadata" in inputs or "glossary" in inputs:
        return from_job_files(inputs.get("metadata"), inputs.get("glossary")), "metadata and glossary"
    return [], "none (no metadata, glossary or pre-ner entities)"


def dedupe(terms: Iterable[Term]) -> list[Term]:
    rank = {"glossary": 2, "person": 1, "term": 0}
    best: dict[str, Term] = {}
    for term in terms:
        key = letters(term.spelling)
        if key and (key not in best or rank[term.kind] > rank[best[key].kind]):
            best[key] = term
    return sorted(best.values(), key=lambda t: -len(t.spelling))  # longest first: "Vincent Hanna" before "Hanna"


def _form_pattern(form: str) -> re.Pattern[str]:
    body = r"[\s\-]*".join(re.escape(w) for w in re.split(r"[\s\-]+", form.strip()) if w)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def find(text: str, terms: Sequence[Term]) -> list[Term]:
    """The terms one of whose forms occurs in ``text``, longest first, each span counted once; a part
    of a person's name found alone ("Hanna") comes back as a term of its own."""
    found, taken = [], []
    for term in terms:
        for form in term.forms:
            match = _form_pattern(form).search(text)
            if match and not any(a < match.end() and match.start() < b for a, b in taken):
                # a part of a name ("Hanna") is required as itself, not as the full name
                found.append(Term(form, (), (), term.kind) if form in term.parts else term)
                taken.append(match.span())
                break
    return found


def spell_in_source(text: str, terms: Sequence[Term]) -> str:
    """The source text with every form of a found term written as its preferred spelling."""
    for term in terms:
        for form in (term.spelling, *term.aliases):
            text = _form_pattern(form).sub(lambda _m, s=term.spelling: s, text)
    return text


def contains(text: str, spelling: str) -> bool:
    """Whether ``spelling`` is in ``text`` as whole words (case, spacing and hyphens aside)."""
    return bool(_form_pattern(spelling).search(text)) or (
        bool(letters(spelling)) and letters(spelling) in {letters(w) for w in text.split()})


def restore(text: str, terms: Sequence[Term]) -> tuple[str, list[dict[str, Any]]]:
    """``text`` with each term written as its spelling where it can be found; one record per term:
    ``{"term", "kept", "how"}``, how = verbatim, respelt, alias, fuzzy or missing."""
    from rapidfuzz import fuzz

    records = []
    for term in terms:
        pattern = _form_pattern(term.spelling)
        if pattern.search(text):
            how = "verbatim" if all(m.group(0) == term.spelling for m in pattern.finditer(text)) else "respelt"
            text = pattern.sub(lambda _m, s=term.spelling: s, text)  # every occurrence
            records.append({"term": term.spelling, "kept": True, "how": how})
            continue
        alias = next((p for f in term.aliases if (p := _form_pattern(f)).search(text)), None)
        if alias:
            text = alias.sub(lambda _m, s=term.spelling: s, text)
            records.append({"term": term.spelling, "kept": True, "how": "alias"})
            continue
        span = _closest_span(text, term.spelling, fuzz.ratio)
        if span is not None:
            a, b = span
            text = text[:a] + term.spelling + text[b:]
            records.append({"term": term.spelling, "kept": True, "how": "fuzzy"})
        elif any(_form_pattern(p).search(text) for p in term.parts):
            records.append({"term": term.spelling, "kept": True, "how": "part"})
        else:
            records.append({"term": term.spelling, "kept": False, "how": "missing"})
    return text, records


def _closest_span(text: str, spelling: str, ratio) -> tuple[int, int] | None:
    """Character span of the run of words (as many as the term has, +-1) most like ``spelling``."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\w+(?:['’\-]\w+)*", text)]
    size = max(1, len(spelling.split()))
    target = letters(spelling)
    best, best_score = None, FUZZY_MIN_SCORE
    for n in {max(1, size - 1), size, size + 1}:
        for i in range(len(words) - n + 1):
            a, b = words[i][0], words[i + n - 1][1]
            score = ratio(letters(text[a:b]), target)
            if score >= best_score and (best is None or score > best_score):
                best, best_score = (a, b), score
    return best


def compliance(records: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """(terms kept, terms protected)."""
    return sum(1 for r in records if r["kept"]), len(records)
