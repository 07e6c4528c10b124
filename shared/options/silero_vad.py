"""Options of the silero-vad stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class SileroVadOptions:
    """Speech detection with Silero VAD. Defaults follow silero's own, with a
    longer minimum silence so that short pauses inside a sentence do not cut a
    region, and a 30 s maximum region (Whisper's window)."""

    threshold: float = setting(0.5, "VAD_THRESHOLD", "speech probability above which a frame is speech")
    min_speech_duration_ms: int = setting(250, "VAD_MIN_SPEECH_DURATION_MS", "shorter speech regions are dropped")
    min_silence_duration_ms: int = setting(500, "VAD_MIN_SILENCE_DURATION_MS", "silence needed to end a region")
    speech_pad_ms: int = setting(200, "VAD_SPEECH_PAD_MS", "padding added on both sides of a region")
    max_speech_duration_s: float = setting(30.0, "VAD_MAX_SPEECH_DURATION_S", "longer regions are split at their longest pause")
    model: str = setting("silero-vad", "VAD_MODEL", "silero-vad (embedded) or a path to a silero ONNX sequence model")
