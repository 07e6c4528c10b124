"""Whisper with context: a segment's speech translated again with the
translations of the segments before it (and the protected names) as the
prompt, Whisper's own way of carrying context from one window to the next;
and both candidates scored by forced alignment under that same prompt (the
probability Whisper gives each of their tokens), so the scores compare.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared import whisper
from shared.devices import ctranslate2_device
from shared.log import get_logger
from shared.models import resolve_whisper

log = get_logger("stages.second_pass_translation.whisper")

MAX_PROMPT_TOKENS = 200  # of Whisper's 223


def resolve_device(device: str) -> tuple[str, str]:
    return ctranslate2_device(device, "auto", "SECOND_PASS_DEVICE")


class WhisperContext:
    def __init__(self, model_name: str, device: str = "auto", cpu_threads: int = 0):
        from faster_whisper.tokenizer import Tokenizer

        self.resolved = resolve_whisper(model_name)
        self.device, self.compute_type = resolve_device(device)
        self.model = whisper.load_model(self.resolved, self.device, self.compute_type, cpu_threads)
        self.text_tokenizer = Tokenizer(self.model.hf_tokenizer, True, task="translate", language="en")

    def identity(self) -> dict[str, Any]:
        return {**self.resolved.identity(), "device": self.device, "compute_type": self.compute_type}

    def read(self, wav: Path, start_s: float, end_s: float):
        """The segment's samples, read as the first pass read them (shared.whisper)."""
        return whisper.read_clips(wav, [(start_s, end_s)])[0]

    def encode(self, clip) -> tuple[Any, int]:
        encoded, frames = whisper.encode(self.model, [clip])
        return encoded, frames[0]

    def context_tokens(self, text: str) -> list[int]:
        return self.text_tokenizer.encode(" " + text.strip())[-MAX_PROMPT_TOKENS:] if text.strip() else []

    def _prompt(self, language: str, previous: Sequence[int]) -> list[int]:
        return whisper.prompt(self.model, language, previous)

    def translate(self, encoded, language: str, previous: Sequence[int], beam_size: int) -> tuple[str, list[int]]:
        from faster_whisper.transcribe import get_suppressed_tokens

        result = self.model.model.generate(
            encoded, [self._prompt(language, previous)], beam_size=max(1, beam_size),
            max_length=self.model.max_length, suppress_blank=True, no_repeat_ngram_size=3,
            suppress_tokens=get_suppressed_tokens(self.text_tokenizer, [-1]))[0]
        tokens = list(result.sequences_ids[0])
        return self.text_tokenizer.decode(tokens).strip(), tokens

    def score(self, encoded, frames: int, language: str, previous: Sequence[int], text: str) -> float | None:
        """Mean log-probability per token of ``text`` given the speech and the prompt."""
        tokens = self.text_tokenizer.encode(" " + text.strip()) if text.strip() else []
        if not tokens:
            return None
        result = self.model.model.align(encoded, self._prompt(language, previous), [tokens], [frames])[0]
        probs = list(result.text_token_probs)[:len(tokens)]
        return sum(math.log(max(p, 1e-12)) for p in probs) / max(1, len(probs))
