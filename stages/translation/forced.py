"""The forced narrative translation: the passages spoken in another language than the
film's main one, translated into the main language (``translation/forced.json``).

A passage is foreign when the asr stage identified its segment's language
(multilingual models only, stages/asr/languages.py) with at least
``MIN_LANGUAGE_PROBABILITY`` and that language is not the transcript's (the
main language: most speech time). Into English, Whisper translates each
passage from its own audio with its identified language forced (the
translation stage's Whisper backend); into any other main language, the MT
model ``TRANSLATION_MODEL`` names for it, or the first one in the cache, over
the passage's transcript text. The subtitles stage writes the forced track
from this file; it holds only the foreign passages, so it is empty for a
film in one language.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared import schema
from shared.errors import PipelineError
from shared.options.translation import TranslationOptions

MIN_LANGUAGE_PROBABILITY = 0.5  # a segment identified less surely than this counts as the main language

OFF_NOTE = "SUBTITLE_FORCED=off: no forced track"
ENGLISH_ONLY_NOTE = "the ASR model is English-only: no segment languages, so no forced track"
NO_LANGUAGES_NOTE = "the transcript records no language per segment (ASR_SEGMENT_LANGUAGE=off or an English-only model): no forced track"


def main_language(transcript: schema.Transcript) -> str:
    code = (transcript.language or "").strip().lower()
    return "" if code == "und" else code


def foreign(transcript: schema.Transcript) -> list[int]:
    """Indices of the segments with text spoken, surely, in another language than the main one."""
    main = main_language(transcript)
    if not main:
        return []
    return [i for i, s in enumerate(transcript.segments)
            if s.text.strip() and s.language and s.language != main and s.language_probability >= MIN_LANGUAGE_PROBABILITY]


def no_model_note(main: str, passages: int, missing: PipelineError) -> str:
    """The note of a forced track no model here can make (TRANSLATION_MODEL=auto)."""
    return (f"no forced track: {passages} passage(s) in another language than {main}, but {missing.message}"
            + (f"; {missing.hint}" if missing.hint else ""))


def why_none(options: TranslationOptions, transcript: schema.Transcript) -> str:
    """Why there is no forced track ("" when there may be one)."""
    if options.forced != "auto":
        return OFF_NOTE
    if not options.forced_possible:
        return ENGLISH_ONLY_NOTE
    if transcript.segments and not any(s.language for s in transcript.segments):
        return NO_LANGUAGES_NOTE
    return ""


def summary(record: schema.Translation, transcript: schema.Transcript) -> dict[str, Any]:
    """What the forced track holds, for the stage's metrics."""
    by_language: dict[str, float] = {}
    for s in record.segments:
        by_language[s.source_language] = round(by_language.get(s.source_language, 0.0) + s.end_s - s.start_s, 3)
    return {"into": record.language, "segments": len(record.segments), "of": len(transcript.segments),
            "speech_s_by_source_language": by_language}


def subset(transcript: schema.Transcript, indices: Sequence[int]) -> list[schema.Segment]:
    return [transcript.segments[i] for i in indices]
