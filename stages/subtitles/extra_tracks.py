"""The forced and SDH tracks beside the full ones (docs/TRACKS.md).

* ``forced``: the passages spoken in another language than the film's main
  one, in the main language (the translation stage's ``forced.json``), laid
  out and timed like a translation; written only when there is such a
  passage. Files ``<name>.<lang>.forced.<fmt>``.
* ``sdh``: the original's dialogue with speaker names, song lines and music
  cues (stages/subtitles/sdh.py); with ``SUBTITLE_SDH=true``. Files
  ``<name>.<lang>.sdh.<fmt>``.

Each is a ``(language, kind, cues)`` the stage writes like any other track;
the manifest's ``kind`` tells mux which disposition it gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shared import schema
from shared.options.subtitles import SubtitleOptions
from shared.progress import ProgressHook, no_progress
from stages.subtitles import sdh, tracks
from stages.subtitles.cues import Cue, CueWord, to_ms
from stages.subtitles.shots import ShotGrid

FORCED = "forced"
SDH = "sdh"
LABELS = {FORCED: ".forced", SDH: ".sdh"}  # in the file name, after the language


def file_label(language: str, kind: str) -> str:
    """The part of a file name between the media's name and the format: ``en``, ``en.forced``, ``en.sdh``."""
    return language + LABELS.get(kind, "")


def load_forced(inputs: dict[str, Path]) -> schema.Translation | None:
    """The forced translation; None when translation did not run or found no foreign passage."""
    if "forced_translation" not in inputs:
        return None
    record = schema.load(inputs["forced_translation"], schema.Translation)
    return record if any(s.text.strip() for s in record.segments) else None


def load_music(inputs: dict[str, Path]) -> list[tuple[int, int]]:
    """Music regions in ms (lyrics-detection's), whatever SUBTITLE_MARK_LYRICS says; [] without them."""
    if "lyrics" not in inputs:
        return []
    found = schema.load(inputs["lyrics"], schema.LyricRegions)
    return sorted((to_ms(r.start_s), to_ms(r.end_s)) for r in found.regions if r.end_s > r.start_s)


def forced_track(record: schema.Translation | None, options: SubtitleOptions, end_limit_ms: int | None,
                 songs: Sequence[tuple[int, int]], hook: ProgressHook = no_progress,
                 grid: ShotGrid | None = None) -> list[tuple[str, str, list[Cue]]]:
    if record is None:
        return []
    cues = tracks.make_cues(tracks.translated_words(record), options, end_limit_ms, songs, hook, record.language, grid)
    return [(record.language, FORCED, cues)]


def sdh_track(words: Sequence[CueWord], language: str, options: SubtitleOptions, end_limit_ms: int | None,
              music: Sequence[tuple[int, int]], hook: ProgressHook = no_progress,
              grid: ShotGrid | None = None) -> list[tuple[str, str, list[Cue]]]:
    if not options.sdh:
        return []
    tags = sdh.tags_for(language, options.sdh_tags)
    cues = tracks.make_cues(sdh.dialogue(words), sdh.options_for_sdh(options), end_limit_ms, music, hook, language, grid)
    extra = sdh.music_cues(cues, music, tags["music"], options.sdh_min_music_ms, options, end_limit_ms)
    return [(language, SDH, sdh.with_music(cues, extra))]
