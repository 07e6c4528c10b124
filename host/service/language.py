"""Spoken-language detection for ``POST /detect-language``: the multilingual
Whisper model (embedded ``base``, shared/models.py) on the first 30 s of speech.

The model is loaded once, on first use, offline; audio is decoded by ffmpeg
(``encode=true``) or read as raw 16 kHz mono s16le PCM (``encode=false``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from host.service.media import MediaError
from shared.errors import StageFailed
from shared.ffmpeg import ffmpeg_output
from shared.languages import language_name

__all__ = ["Detected", "LanguageDetector"]

WINDOW_S = 30  # what Whisper reads to tell the language
DECODING = "ffmpeg decoding the first 30 s"


@dataclass(frozen=True)
class Detected:
    language_code: str
    probability: float

    def to_json(self) -> dict[str, object]:
        """whisper-asr-webservice's answer, plus the probability as ``confidence``."""
        return {"detected_language": language_name(self.language_code).lower(), "language_code": self.language_code,
                "confidence": round(self.probability, 3)}


class LanguageDetector:
    def __init__(self, model_name: str = "base", device: str = "cpu", compute_type: str = "int8"):
        self.model_name = model_name
        self.device = device
        self.compute_type = compute_type
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self):
        with self._lock:
            if self._model is None:
                from shared.models import resolve_whisper
                from shared.offline import apply_offline_environment
                from shared.whisper import load_model

                apply_offline_environment()
                self._model = load_model(resolve_whisper(self.model_name), self.device, self.compute_type,
                                         what="language detection")
            if not self._model.model.is_multilingual:
                raise MediaError(503, f"the language detection model {self.model_name} is English-only; "
                                      "set LANGUAGE_DETECTION_MODEL to a multilingual Whisper model")
            return self._model

    def detect(self, path: Path, raw_pcm: bool) -> Detected:
        """The language spoken in the first 30 s of ``path`` (blocking: run it in a thread)."""
        import numpy as np

        if raw_pcm:
            data = path.read_bytes()[: WINDOW_S * 16000 * 2]
        else:
            try:
                wav = ffmpeg_output(["-i", str(path.absolute()), "-t", str(WINDOW_S), "-vn", "-ac", "1", "-ar", "16000",
                                     "-c:a", "pcm_s16le", "-f", "wav", "-"], DECODING, "")
            except StageFailed as err:
                reason = err.message.removeprefix(f"{DECODING} failed: ")[:200]
                raise MediaError(415, f"ffmpeg cannot decode the file ({reason}); send a video or audio file") from None
            data = wav_samples(wav)
        if len(data) < 16000 * 2 // 10:
            raise MediaError(400, "less than 0.1 s of audio: nothing to detect a language from")
        audio = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
        code, probability, _ = self._loaded().detect_language(audio=audio)
        return Detected(code, float(probability))


def wav_samples(wav: bytes) -> bytes:
    """The sample bytes of a WAV ffmpeg wrote to a pipe (its sizes may be unknown there: the data
    chunk runs to the end). WAV, not raw s16le: the minimal FFmpeg of the images has no s16le muxer."""
    pos = 12
    while pos + 8 <= len(wav):
        chunk, size = wav[pos:pos + 4], int.from_bytes(wav[pos + 4:pos + 8], "little")
        if chunk == b"data":
            return wav[pos + 8:]
        pos += 8 + size + (size & 1)
    return b""
