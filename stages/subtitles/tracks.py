"""Translated tracks and song cues.

Translations (``translation`` or, when it ran, ``second-pass-translation``)
become one subtitle track per language, laid out and timed by the same
profile as the original. A translated segment has no word times, so its
words are spread over the segment's time in proportion to their length
(a word's share is its characters plus one); the segment's end stays a
segment end for the layout, and cues never mix two segments' timing.

Song regions (``lyrics-detection``) mark whole phrases (words between
sentence ends, Whisper segment ends and pauses of ``pause_break_ms``): a
phrase is sung when most of its words' time lies in a song region, so a
region's edges snap to phrase boundaries, and a region found a word or two
late still marks the first line of the song. Cues are cut where sung
phrases start and end, so a cue is either all song or all talk, and a song
cue is laid out ``LYRIC_MARK_CHARS``
narrower to leave room for its marks: ♪ at both ends of each line in SRT,
italics in VTT and ASS (the writers read ``Cue.lyric``).

With translations, the original-language track is written only when
``SUBTITLE_KEEP_ORIGINAL`` asks for it; without them it always is.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shared import schema
from shared.options.subtitles import SubtitleOptions
from shared.progress import ProgressHook, no_progress
from stages.subtitles import speakers
from stages.subtitles.cues import SEGMENT_END, SENTENCE_END, Cue, CueWord, normalize_text, to_ms, word_break_class
from stages.subtitles.layout import layout
from stages.subtitles.shots import ShotGrid
from stages.subtitles.timing import retime

LYRIC_MARK_CHARS = 4  # "♪ " and " ♪"
MIN_LYRIC_LINE_CHARS = 12


def load_translations(inputs: dict[str, Path]) -> list[schema.Translation]:
    """The translations ([] without them): the second pass's when it ran (a graph refinement)."""
    if "translations" not in inputs:
        return []
    manifest = schema.load(inputs["translations"], schema.TranslationManifest)
    return [schema.load(inputs["translations"].parent / f.path, schema.Translation) for f in manifest.files]


def load_lyrics(inputs: dict[str, Path], options: SubtitleOptions) -> list[tuple[int, int]]:
    """Song regions in ms, sorted; [] when lyrics-detection did not run or marking is off."""
    if not options.mark_lyrics or "lyrics" not in inputs:
        return []
    found = schema.load(inputs["lyrics"], schema.LyricRegions)
    return sorted((to_ms(r.start_s), to_ms(r.end_s)) for r in found.regions if r.end_s > r.start_s)


def write_original(translations: Sequence[schema.Translation], options: SubtitleOptions) -> bool:
    return not translations or options.keep_original


def translated_words(translation: schema.Translation) -> list[CueWord]:
    """The translation's words with times spread over their segment (see the module docstring)."""
    words: list[CueWord] = []
    previous_start = 0
    for seg in translation.segments:
        tokens = normalize_text(seg.text).split()
        if not tokens:
            continue
        start, end = max(0, to_ms(seg.start_s)), max(0, to_ms(seg.end_s))
        start = max(start, previous_start)
        end = max(end, start + len(tokens))  # at least a millisecond a word
        weights = [len(t) + 1 for t in tokens]
        total = float(sum(weights))
        at = float(start)
        for k, (token, weight) in enumerate(zip(tokens, weights)):
            span = (end - start) * weight / total
            a, b = int(round(at)), int(round(at + span))
            words.append(CueWord(len(words), a, max(a, b), token, False, 1.0, k == len(tokens) - 1))
            at += span
        previous_start = words[-1].start_ms
    return words


def _merged(songs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(songs):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _song_ms(start_ms: int, end_ms: int, songs: Sequence[tuple[int, int]], starts: Sequence[int]) -> int:
    """How much of [start_ms, end_ms) lies in the (merged, sorted) song regions."""
    total = 0
    k = max(0, bisect.bisect_right(starts, start_ms) - 1)
    while k < len(songs) and songs[k][0] < end_ms:
        total += max(0, min(end_ms, songs[k][1]) - max(start_ms, songs[k][0]))
        k += 1
    return total


def phrases(words: Sequence[CueWord], pause_break_ms: int) -> list[range]:
    """The words cut into phrases: after a sentence end or a Whisper segment end, and at a pause
    of ``pause_break_ms``."""
    out, start = [], 0
    for k in range(1, len(words) + 1):
        if k == len(words) or word_break_class(words[k - 1]) in (SENTENCE_END, SEGMENT_END) \
                or words[k].start_ms - words[k - 1].end_ms >= pause_break_ms:
            out.append(range(start, k))
            start = k
    return out


def sung(words: Sequence[CueWord], songs: Sequence[tuple[int, int]], pause_break_ms: int) -> list[bool]:
    """For each word, whether it is sung: a phrase is sung when most of its words' time lies in a
    song region (by count of word middles when its words have no duration)."""
    merged = _merged(songs)
    starts = [a for a, _ in merged]
    out = [False] * len(words)
    if not merged:
        return out
    for phrase in phrases(words, pause_break_ms):
        total = sum(words[k].end_ms - words[k].start_ms for k in phrase)
        if total > 0:
            inside = sum(_song_ms(words[k].start_ms, words[k].end_ms, merged, starts) for k in phrase)
        else:
            total = len(phrase)
            middles = [(words[k].start_ms + words[k].end_ms) // 2 for k in phrase]
            inside = sum(1 for m in middles if _song_ms(m, m + 1, merged, starts))
        for k in phrase:
            out[k] = 2 * inside > total
    return out


@dataclass(frozen=True)
class Run:
    lyric: bool
    words: tuple[CueWord, ...]


def nearest_speakers(words: Sequence[CueWord]) -> list[str]:
    """Each word's speaker; a word nobody was assigned to (an overlap, a gap of the
    diarization) takes the speaker of the named word nearest to it in time, so that
    it never cuts a turn in two nor starts one of its own."""
    named = [k for k, w in enumerate(words) if w.speaker]
    if not named:
        return [w.speaker for w in words]
    out = []
    for k, word in enumerate(words):
        if not word.speaker:
            at = bisect.bisect_left(named, k)  # the named words just before and after
            word = words[min(named[max(0, at - 1):at + 1], key=lambda n: _distance_ms(words[n], word))]
        out.append(word.speaker)
    return out


def _distance_ms(a: CueWord, b: CueWord) -> int:
    return max(0, b.start_ms - a.end_ms, a.start_ms - b.end_ms)


def runs(words: Sequence[CueWord], songs: Sequence[tuple[int, int]], by_speaker: bool = False,
         pause_break_ms: int = SubtitleOptions.pause_break_ms) -> list[Run]:
    """Words cut where a song starts or ends (``sung``) and, with ``by_speaker``, where one named
    speaker hands over to another (a word with no speaker stays in the run it falls in)."""
    lyrics = sung(words, songs, pause_break_ms)
    out: list[Run] = []
    current: list[CueWord] = []
    state = None
    speakers_of = nearest_speakers(words) if by_speaker else [""] * len(words)
    for k, word in enumerate(words):
        lyric = lyrics[k]
        if current and (lyric != state or speakers_of[k] != speakers_of[k - 1]):
            out.append(Run(bool(state), tuple(current)))
            current = []
        current.append(word)
        state = lyric
    if current:
        out.append(Run(bool(state), tuple(current)))
    return out


def _label_chars(speaker: str, shown: str, options: SubtitleOptions) -> int:
    """Characters of the ``[Name] `` label a run of ``speaker`` opens with after ``shown``'s
    (stages/subtitles/speakers.py; 0 when none), for layout to count in reading speed as QC does."""
    if options.speaker_style != "label" or not speaker or speaker == shown:
        return 0
    return len(f"[{speaker}] ")


def make_cues(words: Sequence[CueWord], options: SubtitleOptions, end_limit_ms: int | None,
              songs: Sequence[tuple[int, int]] = (), hook: ProgressHook = no_progress,
              language: str = "", grid: ShotGrid | None = None) -> list[Cue]:
    """Layout and timing as the stage always did, with songs cut out as runs of their own
    and, with speakers, a run per speaker turn (stages/subtitles/speakers.py); with the
    video's shot changes (``grid``), on frames and snapped to cuts (stages/subtitles/shots.py)."""
    by_speaker = speakers.active(words, options)
    parts = runs(words, songs, by_speaker, options.pause_break_ms) if songs or by_speaker else []
    if not any(p.lyric for p in parts) and not by_speaker:
        return retime(layout(words, options, end_limit_ms, hook, language), options, end_limit_ms, grid, language)
    narrow = dataclasses.replace(options, max_chars_per_line=max(MIN_LYRIC_LINE_CHARS,
                                                                  options.max_chars_per_line - LYRIC_MARK_CHARS))
    cues: list[Cue] = []
    shown = ""  # the speaker whose label is on screen: a run of another one opens with "[Name] "
    for k, part in enumerate(parts):
        limit = parts[k + 1].words[0].start_ms - options.min_gap_ms if k + 1 < len(parts) else end_limit_ms
        speaker = next((w.speaker for w in part.words if w.speaker), "")
        label = _label_chars(speaker, shown, options) if by_speaker else 0
        shown = speaker or shown
        laid = layout(part.words, narrow if part.lyric else options, limit, hook, language, label)
        cues += [dataclasses.replace(c, lyric=part.lyric) for c in laid]
    if by_speaker:
        cues = speakers.decorate(cues, options, lambda ws, opts: layout(ws, opts, end_limit_ms, language=language))
    return retime(cues, options, end_limit_ms, grid, language)
