"""The pre-ner stage: metadata.json + glossary.tsv -> entities.json + prompt.json.

entities.json lists every name with its label, source and weight, ranked;
prompt.json holds the ASR's initial prompt and hotwords, the items they are
made of, what did not fit, and the token count with the tokenizer (model)
that counted it. With neither metadata nor glossary in the job both files
are written empty, and a note says so: the ASR then gets no names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared import graph
from shared.errors import InputError
from shared.fsio import atomic_write_json
from shared.log import get_logger
from shared.metadata import load_glossary, load_metadata
from shared.models import (
    WHISPER_AUTO,
    WHISPER_AUTO_FOLLOWED,
    WHISPER_DETECTION_MODEL,
    ResolvedModel,
    resolve_spacy,
    resolve_whisper,
)
from shared.options.pre_ner import PreNerOptions
from shared.progress import ProgressHook, no_progress
from shared.schema import SCHEMA_VERSION, stamp
from shared.stage import StageReport, follow_links
from stages.pre_ner import entities as ents
from stages.pre_ner.prompt import WHISPER_PROMPT_TOKENS, build

log = get_logger("stages.pre_ner")

STAGE = "pre-ner"

NOTHING_GIVEN_NOTE = "no metadata.json or glossary.tsv in the job: no entities, and no names for the ASR prompt"
NOTHING_FOUND_NOTE = "metadata.json and glossary.tsv name nothing: no entities, and no names for the ASR prompt"


def tokenizer_model(options: PreNerOptions) -> ResolvedModel:
    """The Whisper model whose tokenizer counts the budget: the asr stage's model unless set."""
    if options.tokenizer_model == "auto":  # run outside a job: follow asr's settings as job_options would
        options = follow_links(graph.stage(STAGE), options)
    if options.tokenizer_model in (WHISPER_AUTO, WHISPER_AUTO_FOLLOWED):
        # ASR_MODEL=auto decodes with an English-only or a multilingual model, chosen later: count with
        # the multilingual tokenizer (the detection model's), which never counts fewer tokens than the
        # English one on a list of names (e.g. 35 against 34), and asr recounts with its own anyway
        return resolve_whisper(WHISPER_DETECTION_MODEL)
    return resolve_whisper(options.tokenizer_model)


def spacy_model(options: PreNerOptions, language: str = "") -> ResolvedModel:
    name = options.spacy_model
    if name == "auto":
        name = (language or "en").split("-")[0].lower()
    return resolve_spacy(name)


def model_identity(options: PreNerOptions) -> dict[str, Any]:
    return {"spacy": spacy_model(options).identity(), "spacy_option": options.spacy_model,
            "tokenizer": tokenizer_model(options).identity()}


def check_options(options: PreNerOptions) -> None:
    if not 0 < options.max_prompt_tokens <= WHISPER_PROMPT_TOKENS:
        raise InputError(f"PRE_NER_MAX_PROMPT_TOKENS={options.max_prompt_tokens}: Whisper reads 1 to "
                         f"{WHISPER_PROMPT_TOKENS} prompt tokens")
    if options.max_hotword_tokens < 0:
        raise InputError("PRE_NER_MAX_HOTWORD_TOKENS cannot be negative")


def load_counter(model: ResolvedModel):
    """A function counting the tokens of a text with the Whisper model's tokenizer."""
    from tokenizers import Tokenizer

    path = Path(model.path) / "tokenizer.json"
    if not path.is_file():
        raise InputError(f"Whisper model {model.name} ({model.path}) has no tokenizer.json to count prompt tokens with")
    tokenizer = Tokenizer.from_file(str(path))
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)


def load_nlp(model: ResolvedModel):
    import spacy

    return spacy.load(model.path)


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: PreNerOptions,
        hook: ProgressHook = no_progress) -> StageReport:
    check_options(options)
    metadata = load_metadata(inputs["metadata"]) if "metadata" in inputs else None
    glossary = load_glossary(inputs["glossary"]) if "glossary" in inputs else ()
    tokenizer = tokenizer_model(options)
    language = (metadata.language if metadata else "") or "en"
    notes: list[str] = []
    nlp_model = None
    entities: list[ents.Entity] = []
    hook("reading names", 0, 2)
    if metadata is None and not glossary:
        notes.append(NOTHING_GIVEN_NOTE)
    else:
        nlp_model = spacy_model(options, language)
        log.info("spaCy %s (%s) over the metadata and glossary", nlp_model.path, nlp_model.source)
        entities = ents.collect(metadata, glossary, load_nlp(nlp_model))
        if not entities:
            notes.append(NOTHING_FOUND_NOTE)
    hook("reading names", 1, 2)
    prompt = build(entities, load_counter(tokenizer) if entities else (lambda text: 0),
                   options.max_prompt_tokens, options.max_hotword_tokens)
    if prompt.left_out:
        notes.append(f"{len(prompt.left_out)} name(s) did not fit the {options.max_prompt_tokens}-token prompt "
                     f"budget (see prompt.json left_out)")
    producer = stamp("pre-ner", options, spacy=nlp_model.identity() if nlp_model else None,
                     inputs=sorted(k for k in inputs if k in ("metadata", "glossary"))).to_json()
    atomic_write_json(outputs["entities"], {
        "schema": SCHEMA_VERSION, "language": language,
        "entities": [e.to_json() for e in entities], "producer": producer,
    })
    atomic_write_json(outputs["prompt"], {
        "schema": SCHEMA_VERSION,
        "initial_prompt": prompt.initial_prompt,
        "hotwords": prompt.hotwords,
        "prompt_items": prompt.prompt_items,
        "hotword_items": prompt.hotword_items,
        "left_out": prompt.left_out,
        "tokens": {"prompt": prompt.prompt_tokens, "hotwords": prompt.hotword_tokens, "total": prompt.tokens,
                   "budget": options.max_prompt_tokens},
        "tokenizer": tokenizer.identity(),
        "producer": producer,
    })
    hook("reading names", 2, 2)
    log.info("%d entities; prompt %d + hotwords %d tokens (%s tokenizer)", len(entities), prompt.prompt_tokens,
             prompt.hotword_tokens, tokenizer.name)
    return StageReport(
        model={"spacy": nlp_model.identity() if nlp_model else None, "tokenizer": tokenizer.identity()},
        metrics={"entities": len(entities), "prompt_items": len(prompt.prompt_items),
                 "hotword_items": len(prompt.hotword_items), "left_out": len(prompt.left_out),
                 "prompt_tokens": prompt.prompt_tokens, "hotword_tokens": prompt.hotword_tokens,
                 "tokens": prompt.tokens, "tokenizer_model": tokenizer.name},
        notes=notes,
    )
