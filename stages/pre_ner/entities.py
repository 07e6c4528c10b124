"""Entities from the job's metadata and glossary: collected, labelled, deduplicated, ranked.

Every list in the metadata is taken as given (a cast member is a name even if
spaCy does not recognise it); spaCy labels those items and finds the names in
the free-text synopsis. An entity found in several places keeps its best
spelling (the source ranked highest) and gains a little weight per extra
source; the ranking is by weight, then by first appearance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.metadata import GlossaryEntry, Metadata

# How much a source says "this word will be spoken and must be spelled this way".
SOURCE_WEIGHTS = {
    "glossary": 1.0,
    "cast.character": 0.9,
    "terms": 0.8,
    "places": 0.8,
    "title": 0.7,
    "cast.actor": 0.5,
    "synopsis": 0.3,
}
DEFAULT_LABELS = {"glossary": "TERM", "cast.character": "PERSON", "cast.actor": "PERSON",
                  "places": "LOC", "terms": "TERM", "title": "WORK_OF_ART"}
# spaCy labels that name something (dates, numbers, nationalities are left out: Whisper knows them).
NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART"})
# Lowercase words a name may hold ("Bank of America", "Leonardo da Vinci"); any other means a bad span.
NAME_CONNECTORS = frozenset({"of", "the", "and", "de", "da", "di", "del", "der", "den", "du", "la", "le", "van", "von",
                             "y", "al", "bin", "ibn"})
SYNOPSIS_MENTION_BONUS = 0.1  # per further mention in the synopsis
SYNOPSIS_MAX_WEIGHT = 0.6
EXTRA_SOURCE_BONUS = 0.05

_EDGE_PUNCT = "\"'“”‘’«»()[]{}.,;:!?-–—…*"


@dataclass
class Entity:
    text: str
    label: str
    source: str  # where the spelling comes from (the highest-ranked source)
    weight: float
    sources: list[str] = field(default_factory=list)  # every source that named it
    aliases: list[str] = field(default_factory=list)  # other ways it may be heard or written (glossary)
    order: int = 0  # first appearance, for a stable ranking

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "label": self.label, "source": self.source, "weight": round(self.weight, 3),
                "sources": self.sources, "aliases": self.aliases}


def clean(text: str, article: bool = True) -> str:
    """An entity's text without surrounding punctuation or a possessive; ``article=False``
    also drops a leading article (spaCy often takes "the" into a span of running text)."""
    text = " ".join(text.split()).strip(_EDGE_PUNCT + " ")
    if not article:
        text = re.sub(r"^(the|a|an)\s+(?=[A-Z])", "", text, flags=re.IGNORECASE)
    text = re.sub(r"['’]s$", "", text)
    return text.strip(_EDGE_PUNCT + " ")


def key(text: str) -> str:
    """The deduplication key: case, spacing and punctuation do not make another entity."""
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def _items(metadata: Metadata | None, glossary: Sequence[GlossaryEntry]) -> list[tuple[str, str, list[str]]]:
    """(text, source, aliases) of every listed item, in the order the ranking prefers on ties."""
    items: list[tuple[str, str, list[str]]] = []
    for entry in glossary:
        aliases = [a for a in (entry.term, *entry.aliases) if key(a) != key(entry.spelling)]
        items.append((entry.spelling, "glossary", list(dict.fromkeys(aliases))))
    if metadata is not None:
        items += [(m.character, "cast.character", []) for m in metadata.cast if m.character]
        items += [(t, "terms", []) for t in metadata.terms]
        items += [(p, "places", []) for p in metadata.places]
        if metadata.title:
            items.append((metadata.title, "title", []))
        items += [(m.actor, "cast.actor", []) for m in metadata.cast if m.actor]
    return [(clean(t), s, a) for t, s, a in items if clean(t)]


def _whole_label(doc) -> str | None:
    """The label of an entity that covers the whole text, if spaCy found one."""
    for ent in doc.ents:
        if ent.start_char <= 0 and ent.end_char >= len(doc.text.rstrip(".")) and ent.label_ in NAME_LABELS:
            return ent.label_
    return None


def synopsis_entities(doc) -> list[tuple[str, str, int]]:
    """(text, label, mentions) of the names spaCy finds in the synopsis, first mention first."""
    found: dict[str, list[Any]] = {}
    for ent in doc.ents:
        if ent.label_ not in NAME_LABELS:
            continue
        text = clean(ent.text, article=False)
        if len(text) < 2 or not any(ch.isupper() for ch in text):
            continue
        if any(w.islower() and w not in NAME_CONNECTORS for w in text.split()):
            continue  # a span that ran on into the sentence ("Tarvania for Teodric")
        record = found.setdefault(key(text), [text, ent.label_, 0])
        record[2] += 1
    return [(t, label, n) for t, label, n in found.values()]


def collect(metadata: Metadata | None, glossary: Sequence[GlossaryEntry], nlp) -> list[Entity]:
    """Every entity, deduplicated and ranked (highest weight first)."""
    items = _items(metadata, glossary)
    synopsis = metadata.synopsis if metadata is not None else ""
    texts = [t for t, _, _ in items]
    docs = list(nlp.pipe(texts)) if texts else []
    merged: dict[str, Entity] = {}

    def add(text: str, label: str, source: str, weight: float, aliases: Iterable[str]) -> None:
        k = key(text)
        if not k:
            return
        entity = merged.get(k)
        if entity is None:
            merged[k] = Entity(text, label, source, weight, [source], list(aliases), len(merged))
            return
        if source not in entity.sources:
            entity.sources.append(source)
        if weight > entity.weight:  # the better source's spelling and label win
            entity.text, entity.label, entity.source = text, label, source
        entity.weight = max(entity.weight, weight)
        entity.aliases = list(dict.fromkeys([*entity.aliases, *aliases]))

    for (text, source, aliases), doc in zip(items, docs):
        add(text, _whole_label(doc) or DEFAULT_LABELS[source], source, SOURCE_WEIGHTS[source], aliases)
    if synopsis:
        for text, label, mentions in synopsis_entities(nlp(synopsis)):
            weight = min(SOURCE_WEIGHTS["synopsis"] + SYNOPSIS_MENTION_BONUS * (mentions - 1), SYNOPSIS_MAX_WEIGHT)
            add(text, label, "synopsis", weight, ())
    for entity in merged.values():
        entity.weight = min(1.0, entity.weight + EXTRA_SOURCE_BONUS * (len(entity.sources) - 1))
    return rank(merged.values())


def rank(entities: Iterable[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (-round(e.weight, 6), e.order))
