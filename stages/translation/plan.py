"""Which backend and model translates into each target language.

``TRANSLATION_MODEL`` is one entry for every target, or ``lang=model``
entries (``en=whisper,es=nllb-200-distilled-600M``), an entry without
``lang=`` being the default for the others. A model is:

* ``auto``: Whisper speech translation into English; into any other
  language, the first MT model in the cache that fits (opus-mt for the exact
  pair, then NLLB-200, M2M100, mBART-50: shared/models.py MT_AUTO_ORDER);
* ``whisper``: Whisper speech translation (into English only);
* ``opus-mt``: Helsinki-NLP's model for the pair (source language from the
  transcript, or TRANSLATION_SOURCE_LANGUAGE);
* a short name from shared/models.py MT_REPOS, a Hugging Face repo id in the
  cache, or a model folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.errors import InputError, ModelNotFound
from shared.models import MT_AUTO_ORDER, ResolvedModel, cached_mt_models, model_cache, resolve_mt_model
from stages.translation.languages import LANGUAGE_CODE

WHISPER = "whisper"
AUTO = "auto"
OPUS = "opus-mt"
DOWNLOAD_HINT = ("download an MT model once with network, e.g. make models TRANSLATION_MODEL=nllb-200-distilled-600M, "
                 "or set TRANSLATION_MODEL to a model folder (docs/TRANSLATION.md)")


@dataclass(frozen=True)
class Choice:
    target: str
    spec: str  # as the option gave it
    backend: str  # whisper or transformers
    model: ResolvedModel | None = None  # the MT model (transformers)


def check_targets(targets: tuple[str, ...]) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(t.strip().lower() for t in targets if t.strip()))
    bad = [t for t in out if not LANGUAGE_CODE.match(t)]
    if bad:
        raise InputError(f"TARGET_LANGUAGES: {', '.join(bad)} not a language code",
                         "use ISO 639-1 codes separated by commas, e.g. TARGET_LANGUAGES=en,es")
    return out


def model_specs(option: str, targets: tuple[str, ...]) -> dict[str, str]:
    default, per_language = AUTO, {}
    defaults = []
    for entry in (e.strip() for e in option.split(",")):
        if not entry:
            continue
        if "=" in entry:
            lang, model = (x.strip() for x in entry.split("=", 1))
            if not LANGUAGE_CODE.match(lang.lower()) or not model:
                raise InputError(f"TRANSLATION_MODEL entry {entry!r} is not lang=model", "e.g. en=whisper,es=m2m100_418M")
            per_language[lang.lower()] = model
        else:
            defaults.append(entry)
    if len(defaults) > 1:
        raise InputError(f"TRANSLATION_MODEL names {len(defaults)} default models ({', '.join(defaults)})",
                         "give one default, and lang=model for the others")
    if defaults:
        default = defaults[0]
    return {t: per_language.get(t, default) for t in targets}


def choose(target: str, spec: str, source_language: str) -> Choice:
    """The backend and model for ``target``; ``source_language`` matters for opus-mt pairs."""
    if spec == WHISPER:
        if target != "en":
            raise InputError(f"Whisper translates speech into English only, not into {target}",
                             f"give {target} an MT model: TRANSLATION_MODEL=en=whisper,{target}=nllb-200-distilled-600M")
        return Choice(target, spec, WHISPER)
    if spec == AUTO:
        if target == "en":
            return Choice(target, spec, WHISPER)
        found = cached_mt_models(source_language, target)
        if not found:
            raise ModelNotFound(f"no translation model into {target} in the model cache {model_cache()} "
                                f"(Whisper translates into English only)", DOWNLOAD_HINT)
        return Choice(target, spec, "transformers", found[0])
    if spec == OPUS:
        return Choice(target, spec, "transformers", resolve_mt_model(f"opus-mt-{source_language}-{target}"))
    return Choice(target, spec, "transformers", resolve_mt_model(spec))


def _hub() -> Path:
    return Path(os.environ.get("HF_HUB_CACHE") or model_cache() / "huggingface" / "hub")


def identity(target: str, spec: str) -> dict[str, Any]:
    """What decides the model for ``target`` without reading the transcript: for auto and
    opus-mt, every candidate in the cache (a new download changes it)."""
    if spec == WHISPER or (spec == AUTO and target == "en"):
        choose(target, spec, "")  # refuses Whisper into another language before any work
        return {"backend": WHISPER}
    if spec in (AUTO, OPUS):
        names = [f"opus-mt (cache): {p.name}" for p in sorted(_hub().glob(f"models--Helsinki-NLP--opus-mt-*-{target}"))]
        if spec == AUTO:
            for name in MT_AUTO_ORDER:
                try:
                    names.append(resolve_mt_model(name).revision + " " + name)
                except ModelNotFound:
                    continue
            if not names:
                raise ModelNotFound(f"no translation model into {target} in the model cache {model_cache()} "
                                    f"(Whisper translates into English only)", DOWNLOAD_HINT)
        return {"backend": "transformers", "candidates": names}
    return {"backend": "transformers", "model": resolve_mt_model(spec).identity()}
