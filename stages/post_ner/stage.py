"""The post-ner stage: asr/transcript.json + known names -> post-ner/transcript.json + corrections.json.

The corrected transcript has the asr transcript's schema; words outside the
chosen spans are the asr's own, byte for byte. corrections.json lists every
change (original, corrected, score, the score it needed, rule, what made the
span a candidate, times) and the near misses that did not reach the score,
so a threshold can be tuned from evidence. With no known names nothing can
be corrected: the transcript is written unchanged and a note says why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared import schema
from shared.errors import InputError, ModelNotFound
from shared.fsio import atomic_write_json, read_json
from shared.log import get_logger
from shared.metadata import load_glossary, load_metadata
from shared.models import ResolvedModel, resolve_spacy
from shared.options.post_ner import PostNerOptions
from shared.progress import ProgressHook, no_progress
from shared.stage import StageReport
from stages.post_ner import lexicon
from stages.post_ner.match import correct

log = get_logger("stages.post_ner")

NO_NAMES_NOTE = "no known names (no metadata, glossary or pre-ner entities): nothing to correct, the transcript is unchanged"


def model_identity(options: PostNerOptions) -> dict[str, Any]:
    if options.spacy_model != "auto":
        return {"spacy": resolve_spacy(options.spacy_model).identity()}
    try:
        return {"spacy": resolve_spacy("en").identity(), "spacy_option": "auto"}
    except ModelNotFound:
        return {"spacy": None, "spacy_option": "auto"}


def check_options(options: PostNerOptions) -> None:
    problems = []
    if not 0 < options.min_score <= 100:
        problems.append("POST_NER_MIN_SCORE must be above 0 and at most 100")
    if options.max_ngram_words < 1:
        problems.append("POST_NER_MAX_NGRAM_WORDS must be at least 1")
    if not 0 <= options.low_probability <= 1:
        problems.append("POST_NER_LOW_PROBABILITY must be between 0 and 1")
    if problems:
        raise InputError("; ".join(problems))


def known_forms(inputs: dict[str, Path]) -> tuple[list[lexicon.Form], str]:
    """The names to correct towards, and where they came from."""
    if "entities" in inputs:
        return lexicon.from_entities(read_json(inputs["entities"])), "pre-ner entities"
    metadata = load_metadata(inputs["metadata"]) if "metadata" in inputs else None
    glossary = load_glossary(inputs["glossary"]) if "glossary" in inputs else ()
    return lexicon.from_metadata(metadata, glossary), "metadata and glossary (pre-ner switched off)"


def load_nlp(options: PostNerOptions, language: str) -> tuple[Any, ResolvedModel | None, str | None]:
    """The spaCy pipeline, or (None, None, note) when ``auto`` finds none for the language."""
    import spacy

    name = options.spacy_model
    if name == "auto":
        name = (language or "en").split("-")[0].lower()
        try:
            model = resolve_spacy(name)
        except ModelNotFound as err:
            return None, None, f"no spaCy pipeline for {name!r}: names matched on word n-grams only ({err.hint})"
    else:
        model = resolve_spacy(name)
    return spacy.load(model.path), model, None


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: PostNerOptions,
        hook: ProgressHook = no_progress) -> StageReport:
    check_options(options)
    transcript = schema.load(inputs["transcript"], schema.Transcript)
    forms, origin = known_forms(inputs)
    notes: list[str] = []
    nlp, model, stop_words = None, None, ()
    hook("matching names", 0, 1)
    if not forms:
        notes.append(NO_NAMES_NOTE)
    elif transcript.segments:
        nlp, model, note = load_nlp(options, transcript.language)
        if note:
            notes.append(note)
        if nlp is not None:
            stop_words = nlp.Defaults.stop_words
    result = correct(transcript, forms, nlp, stop_words, options.min_score, options.max_ngram_words,
                     options.low_probability)
    hook("matching names", 1, 1)
    about = {"engine": "spaCy NER + rapidfuzz", "spacy": model.identity() if model else None, "names_from": origin,
             "corrections": len(result.corrections)}
    producer = schema.stamp("post-ner", options, **about, asr=transcript.producer)
    corrected = schema.Transcript(result.transcript.language, result.transcript.language_probability,
                                  result.transcript.audio_duration_s, result.transcript.segments, producer,
                                  removed=transcript.removed)
    schema.write(outputs["corrected_transcript"], corrected)
    atomic_write_json(outputs["corrections"], {
        "schema": schema.SCHEMA_VERSION, "names_from": origin, "known_forms": len(forms),
        "min_score": options.min_score, "corrections": result.corrections, "near_misses": result.near_misses,
        "producer": schema.stamp("post-ner", options, **about).to_json(),
    })
    if result.corrections:
        shown = ", ".join(f"{c['original']!r}->{c['corrected']!r}" for c in result.corrections[:5])
        more = f" and {len(result.corrections) - 5} more" if len(result.corrections) > 5 else ""
        log.info("%d correction(s): %s%s (see corrections.json)", len(result.corrections), shown, more)
    return StageReport(
        model={"spacy": model.identity() if model else None},
        metrics={"known_forms": len(forms), "corrections": len(result.corrections),
                 "names_confirmed": result.confirmed, "near_misses": len(result.near_misses),
                 "words": len(corrected.words)},
        notes=notes,
    )
