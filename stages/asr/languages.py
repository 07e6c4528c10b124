"""Each segment's language, and the film's main language.

Whisper decodes a window in one language: a film that changes language
(a German scene in an English film) is transcribed as if it did not. So,
with a multilingual model, every segment's own audio (padded, at most 30 s:
shared/whisper.py) goes once more through the encoder and Whisper's language
ID, batched. The main language is the one with the most speech time among
the segments identified with at least ``MIN_PROBABILITY``; a segment below
it counts for the language the film was decoded in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from shared import schema, whisper

MIN_PROBABILITY = 0.5  # below this a segment's identification is a guess: it counts for the decoding language
BATCH_SIZE = 8  # segments encoded together


def detect(model, wav: Path, segments: Sequence[schema.Segment], batch_size: int = BATCH_SIZE,
           on_batch: Callable[[int, int], None] = lambda done, total: None) -> list[tuple[str, float]]:
    """(language, probability) for each segment, from its own audio; ``model`` is a faster-whisper
    ``WhisperModel`` (multilingual)."""
    out: list[tuple[str, float]] = []
    for first in range(0, len(segments), max(1, batch_size)):
        batch = segments[first:first + max(1, batch_size)]
        encoded, _ = whisper.encode(model, whisper.read_clips(wav, [(s.start_s, s.end_s) for s in batch]))
        for tokens in model.model.detect_language(encoded):
            best, probability = tokens[0]
            out.append((best[2:-2], float(probability)))  # "<|de|>" -> "de"
        on_batch(len(out), len(segments))
    return out


def with_languages(segments: Sequence[schema.Segment], found: Sequence[tuple[str, float]]) -> list[schema.Segment]:
    return [dataclasses.replace(s, language=lang, language_probability=p) for s, (lang, p) in zip(segments, found)]


def speech_by_language(segments: Sequence[schema.Segment], fallback: str) -> dict[str, float]:
    """Seconds of speech per language, most first; an unsure or unidentified segment counts for ``fallback``."""
    seconds: dict[str, float] = {}
    for s in segments:
        language = s.language if s.language and s.language_probability >= MIN_PROBABILITY else fallback
        seconds[language] = seconds.get(language, 0.0) + max(0.0, s.end_s - s.start_s)
    return dict(sorted(seconds.items(), key=lambda kv: (-kv[1], kv[0])))


def main_language(segments: Sequence[schema.Segment], fallback: str) -> str:
    """The language with the most speech time; ``fallback`` when there is no speech."""
    seconds = speech_by_language(segments, fallback)
    return next(iter(seconds), fallback)
