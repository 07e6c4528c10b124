"""Options of the post-ner stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class PostNerOptions:
    """Name correction on the transcript: spaCy NER spans and word n-grams are
    fuzzy-matched (rapidfuzz) against the known names and glossary; only a
    match at or above ``min_score`` changes words, and every change is logged."""

    spacy_model: str = setting("auto", "POST_NER_SPACY_MODEL", "auto (the transcript's language), a language code, a spaCy pipeline name in the model cache, or a folder")
    min_score: float = setting(80.0, "POST_NER_MIN_SCORE", "match score (0-100, spelling and sound) a correction needs")
    max_ngram_words: int = setting(3, "POST_NER_MAX_NGRAM_WORDS", "longest run of transcript words compared with a name")
    low_probability: float = setting(0.5, "POST_NER_LOW_PROBABILITY", "a lowercase word the ASR was less sure of than this may be a misheard name")
