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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from shared.devices import ctranslate2_device
from shared.errors import InputError, ModelNotFound, StageFailed
from shared.log import get_logger
from shared.models import resolve_whisper

log = get_logger("stages.translation.speech")

SAMPLE_RATE_HZ = 16000
PAD_S = 0.15  # audio taken on each side of a segment: Whisper's segment times cut words short
MAX_SEGMENT_S = 30.0  # Whisper's window; a longer segment is translated from its first 30 s, with a note
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
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        self.resolved = resolve_whisper(model)
        self.device, self.compute_type = resolve_device(device, compute_type)
        log.info("loading Whisper %s (%s) on %s/%s", self.resolved.name, self.resolved.path, self.device,
                 self.compute_type)
        try:
            self.model = WhisperModel(self.resolved.path, device=self.device, compute_type=self.compute_type,
                                      cpu_threads=cpu_threads, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as err:
            raise ModelNotFound(f"cannot load Whisper model {self.resolved.name} from {self.resolved.path}: {err}") from None
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
        """Each span's samples (padded by PAD_S, at most MAX_SEGMENT_S), read straight from the WAV."""
        import numpy as np
        import soundfile

        clips = []
        with soundfile.SoundFile(wav) as f:
            if f.samplerate != SAMPLE_RATE_HZ or f.channels != 1:
                raise StageFailed(f"{wav} is not 16 kHz mono (got {f.samplerate} Hz, {f.channels} channels)",
                                  "rerun demux")
            for start_s, end_s in spans:
                a = max(0, int((start_s - PAD_S) * SAMPLE_RATE_HZ))
                b = min(f.frames, int((end_s + PAD_S) * SAMPLE_RATE_HZ), a + int(MAX_SEGMENT_S * SAMPLE_RATE_HZ))
                f.seek(a)
                clips.append(f.read(max(0, b - a), dtype="float32") if b > a else np.zeros(0, dtype=np.float32))
        return clips

    def encode(self, clips: Sequence) -> tuple[Any, list[int]]:
        import numpy as np
        from faster_whisper.audio import pad_or_trim

        extractor = self.model.feature_extractor
        features, frames = [], []
        for clip in clips:
            if len(clip) < extractor.hop_length:
                clip = np.zeros(extractor.hop_length * 2, dtype=np.float32)
            mel = extractor(clip)[..., :-1]
            frames.append(int(min(mel.shape[-1], extractor.nb_max_frames)))
            features.append(pad_or_trim(mel))
        return self.model.encode(np.stack(features)), frames

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
        from faster_whisper.tokenizer import Tokenizer

        tokenizer = Tokenizer(self.model.hf_tokenizer, True, task=task, language=language)
        return self.model.get_prompt(tokenizer, list(previous), without_timestamps=True)

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
