"""Whisper with context: a segment's speech translated again with the
translations of the segments before it (and the protected names) as the
prompt, Whisper's own way of carrying context from one window to the next;
and both candidates scored by forced alignment under that same prompt (the
probability Whisper gives each of their tokens), so the scores compare.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from shared.devices import ctranslate2_device
from shared.errors import ModelNotFound, StageFailed
from shared.log import get_logger
from shared.models import resolve_whisper

log = get_logger("stages.second_pass_translation.whisper")

SAMPLE_RATE_HZ = 16000
PAD_S = 0.15  # as the first pass reads a segment
MAX_SEGMENT_S = 30.0
MAX_PROMPT_TOKENS = 200  # of Whisper's 223


def resolve_device(device: str) -> tuple[str, str]:
    return ctranslate2_device(device, "auto", "SECOND_PASS_DEVICE")


class WhisperContext:
    def __init__(self, model_name: str, device: str = "auto", cpu_threads: int = 0):
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        self.resolved = resolve_whisper(model_name)
        self.device, self.compute_type = resolve_device(device)
        try:
            self.model = WhisperModel(self.resolved.path, device=self.device, compute_type=self.compute_type,
                                      cpu_threads=cpu_threads, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as err:
            raise ModelNotFound(f"cannot load Whisper model {self.resolved.name} from {self.resolved.path}: {err}") from None
        self.text_tokenizer = Tokenizer(self.model.hf_tokenizer, True, task="translate", language="en")

    def identity(self) -> dict[str, Any]:
        return {**self.resolved.identity(), "device": self.device, "compute_type": self.compute_type}

    def read(self, wav: Path, start_s: float, end_s: float):
        import numpy as np
        import soundfile

        with soundfile.SoundFile(wav) as f:
            if f.samplerate != SAMPLE_RATE_HZ or f.channels != 1:
                raise StageFailed(f"{wav} is not 16 kHz mono", "rerun demux")
            a = max(0, int((start_s - PAD_S) * SAMPLE_RATE_HZ))
            b = min(f.frames, int((end_s + PAD_S) * SAMPLE_RATE_HZ), a + int(MAX_SEGMENT_S * SAMPLE_RATE_HZ))
            f.seek(a)
            return f.read(max(0, b - a), dtype="float32") if b > a else np.zeros(0, dtype=np.float32)

    def encode(self, clip) -> tuple[Any, int]:
        import numpy as np
        from faster_whisper.audio import pad_or_trim

        extractor = self.model.feature_extractor
        if len(clip) < extractor.hop_length:
            clip = np.zeros(extractor.hop_length * 2, dtype=np.float32)
        mel = extractor(clip)[..., :-1]
        return self.model.encode(pad_or_trim(mel)[None]), int(min(mel.shape[-1], extractor.nb_max_frames))

    def context_tokens(self, text: str) -> list[int]:
        return self.text_tokenizer.encode(" " + text.strip())[-MAX_PROMPT_TOKENS:] if text.strip() else []

    def _prompt(self, language: str, previous: Sequence[int]) -> list[int]:
        from faster_whisper.tokenizer import Tokenizer

        tokenizer = Tokenizer(self.model.hf_tokenizer, True, task="translate", language=language)
        return self.model.get_prompt(tokenizer, list(previous), without_timestamps=True)

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
