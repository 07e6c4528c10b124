"""The known names post-ner corrects towards, and the forms they may be heard as.

From pre-ner's entities.json when pre-ner ran (it holds the metadata's lists,
the glossary with its aliases, and the names spaCy found in the synopsis), or
straight from metadata.json and glossary.tsv when pre-ner is switched off.
Each name gives one or more forms: the name itself, each glossary alias, and
for a multi-word person name each of its words (dialogue says "Hanna", not
"Vincent Hanna").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.metadata import GlossaryEntry, Metadata

# Weights as pre-ner gives them, for the metadata-only path (pre-ner switched off).
METADATA_WEIGHTS = {"glossary": 1.0, "cast.character": 0.9, "terms": 0.8, "places": 0.8, "title": 0.7, "cast.actor": 0.5}
PART_WEIGHT_FACTOR = 0.95  # one word of a person's name is a little less certain than the full name
MIN_PART_WEIGHT = 0.5  # parts of less certain names (synopsis-only) are not used
# Words of a name that are titles or particles, never matched on their own.
HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "mister", "madam", "dr", "doctor", "sir", "lady", "lord", "dame",
                        "captain", "capt", "sergeant", "sgt", "lieutenant", "lt", "colonel", "col", "general", "gen",
                        "major", "admiral", "commander", "officer", "detective", "det", "inspector", "agent",
                        "professor", "prof", "father", "mother", "sister", "brother", "aunt", "uncle", "king", "queen",
                        "prince", "princess", "president", "judge", "st", "saint", "jr", "sr",
                        "de", "la", "le", "van", "von", "der", "the", "of"})


@dataclass(frozen=True)
class Form:
    """One way a known name may appear: ``text`` is compared, ``spelling`` is written."""

    text: str
    spelling: str
    kind: str  # name, alias (from the glossary) or part (one word of a person's name)
    source: str
    label: str
    weight: float


def letters(text: str) -> str:
    """Case, spacing and punctuation removed: what two spellings are compared on."""
    return re.sub(r"[\W_]+", "", text.casefold())


def forms_of(text: str, label: str, source: str, weight: float, aliases: Iterable[str] = (),
             sources: Sequence[str] = ()) -> list[Form]:
    out = [Form(text, text, "name", source, label, weight)]
    out += [Form(a, text, "alias", source, label, weight) for a in aliases if letters(a) != letters(text)]
    words = text.split()
    person = label == "PERSON" and (source.startswith("cast.character") or "cast.character" in sources
                                    or source == "synopsis")
    if person and len(words) > 1 and weight * PART_WEIGHT_FACTOR >= MIN_PART_WEIGHT:
        for word in words:
            word = word.strip(".,")
            if len(letters(word)) >= 3 and word[:1].isupper() and letters(word) not in HONORIFICS:
                out.append(Form(word, word, "part", source, label, weight * PART_WEIGHT_FACTOR))
    return out


def from_entities(data: dict[str, Any]) -> list[Form]:
    """Forms from pre-ner's entities.json."""
    out: list[Form] = []
    for e in data.get("entities", []):
        out += forms_of(e["text"], e.get("label", ""), e.get("source", ""), float(e.get("weight", 0.5)),
                        e.get("aliases", ()), e.get("sources", ()))
    return dedupe(out)


def from_metadata(metadata: Metadata | None, glossary: Sequence[GlossaryEntry]) -> list[Form]:
    """Forms from the job files themselves (pre-ner switched off: no synopsis names)."""
    out: list[Form] = []
    for entry in glossary:
        out += forms_of(entry.spelling, "TERM", "glossary", METADATA_WEIGHTS["glossary"], (entry.term, *entry.aliases))
    if metadata is not None:
        for m in metadata.cast:
            if m.character:
                out += forms_of(m.character, "PERSON", "cast.character", METADATA_WEIGHTS["cast.character"])
        out += [f for t in metadata.terms for f in forms_of(t, "TERM", "terms", METADATA_WEIGHTS["terms"])]
        out += [f for p in metadata.places for f in forms_of(p, "LOC", "places", METADATA_WEIGHTS["places"])]
        if metadata.title:
            out += forms_of(metadata.title, "WORK_OF_ART", "title", METADATA_WEIGHTS["title"])
        for m in metadata.cast:
            if m.actor:
                out += forms_of(m.actor, "PERSON", "cast.actor", METADATA_WEIGHTS["cast.actor"])
    return dedupe(out)


def dedupe(forms: Iterable[Form]) -> list[Form]:
    """One form per compared text: the most certain one (a full name beats a part of one)."""
    best: dict[str, Form] = {}
    rank = {"name": 2, "alias": 1, "part": 0}
    for form in forms:
        k = letters(form.text)
        if not k:
            continue
        held = best.get(k)
        if held is None or (form.weight, rank[form.kind]) > (held.weight, rank[held.kind]):
            best[k] = form
    return list(best.values())
