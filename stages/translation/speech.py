"""The Whisper backend: speech translation into English (``task=translate``)
with a multilingual Whisper model on CTranslate2, one transcript segment at a
time, so that every translation keeps its segment's times.

Segments are read from the WAV, padded a little, encoded in batches; the
same encoder pass gives each segment's language (Whisper's language ID) and
its translation with that language forced, which is what makes mixed-language
films work: with one language for the whole film Whisper drops or garbles
the other language's speech. Names and glossary spellings go in the prompt
(as text that came before), which is how Whisper is told how to spell them.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared import whisper
from shared.devices import ctranslate2_device
from shared.errors import InputError
from shared.log import get_logger
from shared.models import resolve_whisper

log = get_logger("stages.translation.speech")

MAX_PROMPT_TOKENS = 120  # of Whisper's 223: names only, the rest left for the model's own context
LOOP_COMPRESSION_RATIO = 2.4  # gzip ratio above which Whisper's output is a repetition loop (Whisper's own rule)


def resolve_device(device: str, compute_type: str) -> tuple[str, str]:
    return ctranslate2_device(device, compute_type, "TRANSLATION_DEVICE")


def identity(model: str, device: str, compute_type: str) -> dict[str, Any]:
    device, compute_type = resolve_device(device, compute_type)
    return {**resolve_whisper(model).identity(), "device": device, "compute_type": compute_type}


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(gzip.compress(data)) if data else 0.0


@dataclass(frozen=True)
class Result:
    language: str
    language_probability: float
    text: str  # "" when not generated
    score: float | None  # mean log-probability per token


class WhisperSpeech:
    def __init__(self, model: str, device: str = "auto", compute_type: str = "auto", cpu_threads: int = 0):
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        self.resolved = resolve_whisper(model)
        self.device, self.compute_type = resolve_device(device, compute_type)
        self.model = whisper.load_model(self.resolved, self.device, self.compute_type, cpu_threads)
        if not self.model.model.is_multilingual:
            raise InputError(f"Whisper model {model} is English-only: it can neither translate nor tell languages",
                             "use a multilingual model: TRANSLATION_WHISPER_MODEL=base")
        self.languages = frozenset(_LANGUAGE_CODES)

    def identity(self) -> dict[str, Any]:
        return {**self.resolved.identity(), "device": self.device, "compute_type": self.compute_type}

    def check_language(self, code: str) -> None:
        if code not in self.languages:
            raise InputError(f"Whisper does not know the language {code!r}",
                             f"use one of Whisper's codes, e.g. {', '.join(sorted(self.languages)[:12])}, ...")

    # --- audio ------------------------------------------------------------------------------

    @staticmethod
    def read_clips(wav: Path, spans: Sequence[tuple[float, float]]) -> list:
        """Each span's samples as Whisper takes them (shared.whisper: padded, at most 30 s)."""
        return whisper.read_clips(wav, spans)

    def encode(self, clips: Sequence) -> tuple[Any, list[int]]:
        return whisper.encode(self.model, clips)

    def detect(self, encoded) -> list[tuple[str, float]]:
        return [(tokens[0][0][2:-2], float(tokens[0][1])) for tokens in self.model.model.detect_language(encoded)]

    # --- decoding ---------------------------------------------------------------------------

    def prompt_tokens(self, text: str) -> list[int]:
        """``text`` as prompt tokens, its last MAX_PROMPT_TOKENS (Whisper reads the end)."""
        from faster_whisper.tokenizer import Tokenizer

        if not text.strip():
            return []
        tokenizer = Tokenizer(self.model.hf_tokenizer, True, task="translate", language="en")
        return tokenizer.encode(" " + text.strip())[-MAX_PROMPT_TOKENS:]

    def prompt(self, language: str, previous: Sequence[int], task: str = "translate") -> list[int]:
        return whisper.prompt(self.model, language, previous, task)

    def generate(self, encoded, languages: Sequence[str], previous: Sequence[int], beam_size: int,
                 task: str = "translate", no_repeat_ngram_size: int = 0,
                 repetition_penalty: float = 1.0) -> list[tuple[str, float, list[int]]]:
        """(text, mean log-probability per token, tokens) per batch item; every item gets the same
        previous-text prompt (Whisper needs its start token at one position across a batch)."""
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        tokenizer = Tokenizer(self.model.hf_tokenizer, True, task=task, language=languages[0])
        prompts = [self.prompt(lang, previous, task) for lang in languages]
        results = self.model.model.generate(
            encoded, prompts, beam_size=max(1, beam_size), max_length=self.model.max_length,
            return_scores=True, suppress_blank=True, suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
            no_repeat_ngram_size=no_repeat_ngram_size, repetition_penalty=repetition_penalty)
        out = []
        for result in results:
            tokens = list(result.sequences_ids[0])
            out.append((tokenizer.decode(tokens).strip(), float(result.scores[0]), tokens))
        return out

    def generate_without_loop(self, clip, language: str, previous: Sequence[int], beam_size: int,
                              task: str = "translate") -> tuple[str, float, list[int]]:
        """One clip decoded again with repeated 3-grams barred: Whisper's repetition loops
        ("to understand, to understand, ...") end there."""
        encoded, _ = self.encode([clip])
        return self.generate(encoded, [language], previous, beam_size, task, no_repeat_ngram_size=3,
                             repetition_penalty=1.1)[0]
