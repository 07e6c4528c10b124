"""The in-memory cue model, times in integer milliseconds (as pysubs2 keeps
them), and the text rules every other module shares: how words join into a
line, and which punctuation ends a sentence or a clause.

A cue holds whole transcript words and the number of words on each line, so
a line can never be broken inside a word: lines are rendered from words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.schema import Transcript

# How strongly the punctuation after a word invites a break.
NO_BREAK = 0
SEGMENT_END = 1  # Whisper ended a segment here, without punctuation
CLAUSE_END = 2  # , ; : — and their CJK forms
SENTENCE_END = 3  # . ? ! … and their CJK forms

_CLOSERS = "\"'”’»)]}」』"
_SENTENCE_MARKS = ".?!…。？！"
_CLAUSE_MARKS = ",;:—–，、；："
# Words ending in a full stop that do not end a sentence (English titles).
_ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "jr.", "sr.", "vs.", "mt.", "no."})


@dataclass(frozen=True)
class CueWord:
    """One transcript word with sanitised times (never before 0, starts never
    going back in time, end never before start)."""

    index: int  # position among the transcript's non-empty words
    start_ms: int
    end_ms: int
    text: str  # stripped, inner whitespace collapsed to one space
    glued: bool = False  # Whisper wrote no space before it: joins its predecessor without one
    probability: float = 1.0
    segment_end: bool = False  # last word of a Whisper segment
    speaker: str = ""  # the speaker's name (stage speakers), "" when unknown


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    words: tuple[CueWord, ...]
    line_sizes: tuple[int, ...]  # words on each line, in order; sums to len(words)
    lyric: bool = False  # sung (lyrics-detection): the writers mark it (stages/subtitles/tracks.py)
    line_prefixes: tuple[str, ...] = ()  # per line, e.g. "[Diane] " or "- " (stages/subtitles/speakers.py)

    @property
    def lines(self) -> tuple[str, ...]:
        out, at = [], 0
        for k, size in enumerate(self.line_sizes):
            prefix = self.line_prefixes[k] if k < len(self.line_prefixes) else ""
            out.append(prefix + join_words(self.words[at:at + size]))
            at += size
        return tuple(out)

    @property
    def speakers(self) -> tuple[str, ...]:
        """The speakers' names, in order of first word, without repeats or unknowns."""
        return tuple(dict.fromkeys(w.speaker for w in self.words if w.speaker))

    @property
    def text(self) -> str:
        """The lines joined by newlines."""
        return "\n".join(self.lines)

    @property
    def plain(self) -> str:
        """The cue on one line: what reading speed counts (speaker labels and dashes included)."""
        if any(self.line_prefixes):
            return " ".join(self.lines)
        return join_words(self.words)

    @property
    def chars(self) -> int:
        return len(self.plain)

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms

    def chars_per_s(self) -> float:
        """Reading speed; infinite for a cue with text and no duration."""
        if self.duration_ms <= 0:
            return float("inf") if self.chars else 0.0
        return self.chars * 1000.0 / self.duration_ms

    def retimed(self, start_ms: int, end_ms: int) -> Cue:
        return dataclasses.replace(self, start_ms=start_ms, end_ms=end_ms)


def normalize_text(text: str) -> str:
    return " ".join(text.split())


def join_words(words: Iterable[CueWord]) -> str:
    """Words as one line: a space before each word but the first, unless glued."""
    parts: list[str] = []
    for word in words:
        if parts and not word.glued:
            parts.append(" ")
        parts.append(word.text)
    return "".join(parts)


def break_class(text: str) -> int:
    """SENTENCE_END, CLAUSE_END or NO_BREAK for the punctuation that ends ``text``."""
    core = text.rstrip(_CLOSERS)
    if not core:
        return NO_BREAK
    last = core[-1]
    if last in _SENTENCE_MARKS:
        lowered = core.lower()
        if lowered in _ABBREVIATIONS or (len(core) == 2 and core[0].isupper()):  # "Dr." or an initial "J."
            return NO_BREAK
        return SENTENCE_END
    if last in _CLAUSE_MARKS or core.endswith("--"):
        return CLAUSE_END
    return NO_BREAK


def word_break_class(word: CueWord) -> int:
    found = break_class(word.text)
    if found == NO_BREAK and word.segment_end:
        return SEGMENT_END
    return found


def to_ms(seconds: float) -> int:
    return int(round(float(seconds) * 1000.0))


def words_from_transcript(transcript: Transcript, speakers: Sequence[str] | None = None) -> tuple[list[CueWord], int]:
    """The transcript's words in order, as CueWords; returns (words, empty words dropped).
    ``speakers``, when given, names the speaker of each of ``transcript.words``.

    Times are sanitised so that layout can rely on them: a start is never
    below 0 nor before the previous word's start, an end never before its
    start. Words whose text is only whitespace carry nothing to show and are
    dropped (and counted)."""
    words: list[CueWord] = []
    dropped = 0
    previous_start = 0
    position = -1
    for segment in transcript.segments:
        kept_in_segment: list[int] = []
        for raw in segment.words:
            position += 1
            text = normalize_text(raw.text)
            if not text:
                dropped += 1
                continue
            start = max(0, to_ms(raw.start_s), previous_start)
            end = max(start, to_ms(raw.end_s))
            previous_start = start
            glued = bool(words) and not raw.text[:1].isspace()
            kept_in_segment.append(len(words))
            words.append(CueWord(len(words), start, end, text, glued, float(raw.probability),
                                 speaker=speakers[position] if speakers is not None else ""))
        if kept_in_segment:
            last = kept_in_segment[-1]
            words[last] = dataclasses.replace(words[last], segment_end=True)
    return words, dropped


def cue_words(cues: Sequence[Cue]) -> list[CueWord]:
    return [w for cue in cues for w in cue.words]
