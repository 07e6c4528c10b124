"""The job's own inputs besides the media: ``metadata.json`` and ``glossary.tsv``.

metadata.json (every key optional)::

    {"title": "Heat", "year": 1995, "language": "en",
     "synopsis": "A group of professional bank robbers ...",
     "cast": [{"actor": "Al Pacino", "character": "Vincent Hanna"}],
     "places": ["Los Angeles"], "terms": ["Kevlar"],
     "speakers": {"SPEAKER_00": "Vincent Hanna"}}

glossary.tsv: a header line, then one entry a line, tab-separated::

    term<TAB>preferred<TAB>aliases<TAB>note
    comfy ui<TAB>ComfyUI<TAB>comfy eye|comfy you eye<TAB>product name

Both are validated when the job is created, with errors that name the file,
the line and the field.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.errors import InputError
from shared.fsio import read_user_json

GLOSSARY_COLUMNS = ("term", "preferred", "aliases", "note")
# bounds on what a person hands in (docs/NAMES.md): a film's metadata is a few kB, a large glossary a few thousand rows
METADATA_MAX_BYTES = 1_000_000
GLOSSARY_MAX_BYTES = 10_000_000
GLOSSARY_MAX_ROWS = 50_000
# a language code (en, pt-BR, zh-Hans, yue), never a path or a model name
LANGUAGE_PATTERN = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


@dataclass(frozen=True)
class CastMember:
    actor: str = ""
    character: str = ""


@dataclass(frozen=True)
class Metadata:
    title: str = ""
    year: int | None = None
    language: str = ""
    synopsis: str = ""
    cast: tuple[CastMember, ...] = ()
    places: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    speakers: dict[str, str] = field(default_factory=dict)  # diarization label -> name


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    preferred: str  # how it must be written
    aliases: tuple[str, ...] = ()  # how it may be heard or misspelled
    note: str = ""

    @property
    def spelling(self) -> str:
        return self.preferred or self.term


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where} must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def parse_metadata(data: Any, source: str = "metadata.json") -> Metadata:
    if not isinstance(data, dict):
        raise InputError(f"{source} must hold a JSON object")
    known = {"title", "year", "language", "synopsis", "cast", "places", "terms", "speakers"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"{source}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for key in ("title", "language", "synopsis"):
        if key in data and not isinstance(data[key], str):
            raise InputError(f"{source}: {key} must be a string")
    language = data.get("language", "").strip()
    if language and not LANGUAGE_PATTERN.fullmatch(language):
        raise InputError(f"{source}: language must be a language code like en or pt-BR, got {language[:40]!r}")
    year = data.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        raise InputError(f"{source}: year must be a whole number like 1995")
    cast = data.get("cast", [])
    if not isinstance(cast, list):
        raise InputError(f"{source}: cast must be a list of {{\"actor\": ..., \"character\": ...}}")
    members = []
    for i, item in enumerate(cast):
        if not isinstance(item, dict) or set(item) - {"actor", "character"} or not all(
                isinstance(v, str) for v in item.values()):
            raise InputError(f"{source}: cast[{i}] must be an object with string fields actor and character")
        members.append(CastMember(item.get("actor", "").strip(), item.get("character", "").strip()))
    speakers = data.get("speakers", {})
    if not isinstance(speakers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in speakers.items()):
        raise InputError(f"{source}: speakers must map labels to names, e.g. {{\"SPEAKER_00\": \"Diane\"}}")
    return Metadata(
        title=data.get("title", "").strip(), year=year, language=language,
        synopsis=data.get("synopsis", "").strip(), cast=tuple(members),
        places=_strings(data.get("places", []), f"{source}: places"),
        terms=_strings(data.get("terms", []), f"{source}: terms"), speakers=dict(speakers),
    )


def _check_size(path: Path, limit: int) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        return  # the reader says what is wrong
    if size > limit:
        raise InputError(f"{path.name} is larger than {limit // 1_000_000} MB ({size / 1e6:.1f} MB)",
                         "keep it to names and a short synopsis (docs/NAMES.md, limits)")


def load_metadata(path: Path) -> Metadata:
    _check_size(path, METADATA_MAX_BYTES)
    return parse_metadata(read_user_json(path, "metadata file"), path.name)


def parse_glossary(text: str, source: str = "glossary.tsv") -> tuple[GlossaryEntry, ...]:
    rows = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        return ()
    header = tuple(cell.strip().lower() for cell in rows[0])
    if header[:1] != ("term",) or set(header) - set(GLOSSARY_COLUMNS):
        raise InputError(f"{source}: the first line must be the header {chr(9).join(GLOSSARY_COLUMNS)} "
                         f"(tab-separated), got {' | '.join(header)}")
    if len(rows) - 1 > GLOSSARY_MAX_ROWS:
        raise InputError(f"{source} has {len(rows) - 1} rows, more than {GLOSSARY_MAX_ROWS}",
                         "keep the names the film needs (docs/NAMES.md, limits)")
    entries = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) > len(header):
            raise InputError(f"{source} line {number}: {len(row)} columns, the header has {len(header)}")
        cells = dict(zip(header, (c.strip() for c in row)))
        if not cells.get("term"):
            raise InputError(f"{source} line {number}: the term column is empty")
        aliases = tuple(a.strip() for a in cells.get("aliases", "").split("|") if a.strip())
        entries.append(GlossaryEntry(cells["term"], cells.get("preferred", ""), aliases, cells.get("note", "")))
    return tuple(entries)


def load_glossary(path: Path) -> tuple[GlossaryEntry, ...]:
    _check_size(path, GLOSSARY_MAX_BYTES)
    try:
        return parse_glossary(path.read_text(encoding="utf-8"), path.name)
    except UnicodeDecodeError:
        raise InputError(f"{path.name} is not UTF-8 text") from None
