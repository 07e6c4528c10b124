"""The SDH track (subtitles for the deaf and hard of hearing): the dialogue as the
original track has it, plus what a viewer cannot hear.

* Speaker names where the speaker changes: ``[Name]`` labels whatever
  ``SUBTITLE_SPEAKER_STYLE`` says (names from the metadata, else the
  diarization's labels; only when the speakers stage ran).
* Song lines between ♪ (SRT; italics in VTT and ASS), whatever
  ``SUBTITLE_MARK_LYRICS`` says.
* A music cue (``[MUSIC]`` in English, the language's own word from
  :data:`TAGS`, or ``SUBTITLE_SDH_TAGS``) where music plays without dialogue.

The music rule: music is what lyrics-detection found (songs, and any music
its audio features score as such: a steady pitch, a tonal spectrum, a beat,
few pauses). Dialogue is every SDH cue (from transcript words that hold a
letter or a digit: Whisper's ``♪`` and ``[Music]`` are not dialogue, and are
left out of the SDH track). A music region's stretches that no dialogue cue
covers, each cue widened by ``min_gap_ms``, are music without dialogue; one
at least ``SUBTITLE_SDH_MIN_MUSIC_MS`` long gets a music cue from its start,
as long as the stretch and at most ``max_duration_ms``. So a music cue never
overlaps dialogue, and music under speech gets none. Speech regions (VAD)
are not used: speech nobody transcribed is not something the track can show.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from shared.errors import InputError
from shared.options.subtitles import SubtitleOptions
from stages.subtitles.cues import Cue, CueWord

# Tag words per language (ISO 639-1); SUBTITLE_SDH_TAGS overrides them (``music=[MUSIK]``).
TAGS: dict[str, dict[str, str]] = {
    "en": {"music": "[MUSIC]"},
    "de": {"music": "[MUSIK]"},
    "fr": {"music": "[MUSIQUE]"},
    "es": {"music": "[MÚSICA]"},
    "it": {"music": "[MUSICA]"},
    "pt": {"music": "[MÚSICA]"},
    "nl": {"music": "[MUZIEK]"},
}
DEFAULT_TAGS = {"music": "♪"}  # a language without its row: the note says it in any language
TAG_NAMES = ("music",)

_NO_DIALOGUE = re.compile(r"^\W*$|^[\[(].*[\])]$")  # only marks (♪, *, -), or a bracketed tag ([Music], (upbeat))


def tags_for(language: str, override: str) -> dict[str, str]:
    """The tag words for ``language``: its row of :data:`TAGS` (♪ for a language without one),
    then ``override`` (``music=[MUSIK]``, comma-separated) on top."""
    tags = {**DEFAULT_TAGS, **TAGS.get(language.split("-")[0].lower(), {})}
    for entry in (e.strip() for e in override.split(",")):
        if not entry:
            continue
        name, sep, word = (x.strip() for x in entry.partition("="))
        if not sep or name not in TAG_NAMES or not word:
            raise InputError(f"SUBTITLE_SDH_TAGS entry {entry!r} is not name=word with a name from {', '.join(TAG_NAMES)}",
                             "e.g. SUBTITLE_SDH_TAGS=music=[MUSIK]")
        tags[name] = word
    return tags


def dialogue(words: Sequence[CueWord]) -> list[CueWord]:
    """The words a viewer reads as dialogue: not Whisper's music notes and bracketed tags."""
    return [w for w in words if not _NO_DIALOGUE.match(w.text)]


def options_for_sdh(options: SubtitleOptions) -> SubtitleOptions:
    """The layout options of the SDH dialogue: speaker labels where the speaker changes."""
    return dataclasses.replace(options, speaker_style="label", mark_lyrics=True)


def _uncovered(region: tuple[int, int], covered: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``region`` outside every span of ``covered`` (sorted by start)."""
    out, at = [], region[0]
    for a, b in covered:
        if b <= at or a >= region[1]:
            continue
        if a > at:
            out.append((at, a))
        at = max(at, b)
    if at < region[1]:
        out.append((at, region[1]))
    return out


def music_cues(cues: Sequence[Cue], music: Sequence[tuple[int, int]], tag: str, min_music_ms: int,
               options: SubtitleOptions, end_limit_ms: int | None = None) -> list[Cue]:
    """A cue holding ``tag`` at the start of every stretch of music without dialogue (the module's rule)."""
    covered = sorted((c.start_ms - options.min_gap_ms, c.end_ms + options.min_gap_ms) for c in cues)
    out = []
    for region in sorted(music):
        for a, b in _uncovered(region, covered):
            if end_limit_ms is not None:
                b = min(b, end_limit_ms)
            if b - a >= max(1, min_music_ms):
                word = CueWord(-1, a, b, tag)
                out.append(Cue(a, min(b, a + options.max_duration_ms), (word,), (1,)))
    return out


def with_music(cues: Sequence[Cue], music: Sequence[Cue]) -> list[Cue]:
    return sorted([*cues, *music], key=lambda c: (c.start_ms, c.end_ms))
