"""The cues of the subtitle tracks the subtitles stage listed in its manifest.

A track is one file name without its format (``film.en`` of ``film.en.srt``,
``film.en.vtt`` ...); the report reads one file of it, the first of
``READABLE`` that the manifest lists. pysubs2 reads it where it is installed
(the venv: the native runner, ``make report``). The container executor runs on
the host's plain python3 without it; there the SRT file is read by
:func:`read_srt`, the few lines SRT needs (a track without SRT is then left
out, with a note). Either way a cue is (start, end, text), times in integer
milliseconds, its lines joined by newlines, formatting tags (SRT's ``<i>``,
ASS's ``{\\i1}``) dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from shared.schema import SubtitleManifest

READABLE = ("srt", "vtt", "ass")  # formats read, in order of preference (our .json is not pysubs2's JSON)
_TIME = re.compile(r"(\d+):(\d{2}):(\d{2})[,.](\d{1,3})")
_SRT_TAGS = re.compile(r"</?(?:i|b|u|s|font)(?:\s[^>]*)?>", re.IGNORECASE)  # SRT's formatting, as players read it


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str


@dataclass(frozen=True)
class Track:
    name: str  # the file name without its format: film.en, film.es
    language: str
    kind: str  # transcript, translation, or whatever the subtitles stage calls it
    path: str  # the file read, relative to the subtitles folder
    cues: tuple[Cue, ...]


def _ms(match: re.Match[str]) -> int:
    hours, minutes, seconds, fraction = match.groups()
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(fraction.ljust(3, "0"))


def read_srt(text: str) -> list[Cue]:
    """The cues of SRT text: blocks of a number, ``start --> end`` and the text lines."""
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")):
        lines = block.strip("\n").split("\n")
        for k, line in enumerate(lines[:2]):
            if "-->" in line:
                start, _, end = line.partition("-->")
                a, b = _TIME.search(start), _TIME.search(end)
                if a and b:
                    cues.append(Cue(_ms(a), _ms(b), _SRT_TAGS.sub("", "\n".join(lines[k + 1:])).strip()))
                break
    return cues


def _read_pysubs2(path: Path) -> list[Cue]:
    import pysubs2

    subs = pysubs2.load(str(path), encoding="utf-8")
    return [Cue(int(e.start), int(e.end), e.plaintext.strip()) for e in subs if not e.is_comment]


def _have_pysubs2() -> bool:
    try:
        import pysubs2  # noqa: F401
    except ImportError:
        return False
    return True


def read_tracks(folder: Path, manifest: SubtitleManifest, max_cues: int) -> tuple[list[Track], list[str]]:
    """Every track of the manifest with its cues (at most ``max_cues`` each), and notes on
    what was left out."""
    formats = READABLE if _have_pysubs2() else ("srt",)
    chosen: dict[str, tuple[int, Path, str, str]] = {}
    order: list[str] = []
    for entry in manifest.files:
        suffix = f".{entry.format}"
        if entry.format not in READABLE or not entry.path.endswith(suffix):
            continue
        name = entry.path[: -len(suffix)]
        if name not in order:
            order.append(name)
        if entry.format in formats:
            rank = formats.index(entry.format)
            if name not in chosen or rank < chosen[name][0]:
                chosen[name] = (rank, folder / entry.path, entry.language, entry.kind)
    tracks, notes = [], []
    for name in order:
        if name not in chosen:
            notes.append(f"track {name}: only {', '.join(READABLE[1:])} files, which need pysubs2 (the venv)")
            continue
        _, path, language, kind = chosen[name]
        try:
            cues = _read_pysubs2(path) if _have_pysubs2() else read_srt(path.read_text(encoding="utf-8"))
        except Exception as err:  # a damaged track is a note in the report, never its end
            notes.append(f"track {name}: cannot read {path.name}: {type(err).__name__}: {err}"[:300])
            continue
        if len(cues) > max_cues:
            notes.append(f"track {name}: {len(cues)} cues, the first {max_cues} shown")
            cues = cues[:max_cues]
        tracks.append(Track(name, language, kind, path.name, tuple(cues)))
    return tracks, notes
