"""Whisper on CTranslate2 (faster-whisper): what the stages that load it share.

Loading a resolved model offline (one error when it cannot be loaded), and
reading a segment's speech the way the translation stage and the second pass
both feed it to Whisper: padded by ``PAD_S`` on each side, at most
``MAX_SEGMENT_S`` long. The second pass scores the first pass's text on the
same samples the first pass translated, so this is one invariant, kept here.
faster_whisper and ctranslate2 are imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared.audio import AudioFile
from shared.errors import ModelNotFound
from shared.log import get_logger
from shared.models import ResolvedModel

__all__ = ["MAX_SEGMENT_S", "PAD_S", "encode", "load_model", "prompt", "read_clip", "read_clips"]

log = get_logger("shared.whisper")

PAD_S = 0.15  # audio taken on each side of a segment: Whisper's segment times cut words short
MAX_SEGMENT_S = 30.0  # Whisper's window: a longer segment is read from its first 30 s


def load_model(resolved: ResolvedModel, device: str, compute_type: str, cpu_threads: int = 0, what: str = "Whisper"):
    """A faster-whisper ``WhisperModel`` from the resolved folder, never downloading;
    ModelNotFound naming ``what`` (``ASR``) when it cannot be loaded."""
    from faster_whisper import WhisperModel

    log.info("loading %s model %s (%s, %s) on %s/%s", what, resolved.name, resolved.source, resolved.path, device,
             compute_type)
    try:
        return WhisperModel(resolved.path, device=device, compute_type=compute_type, cpu_threads=cpu_threads,
                            local_files_only=True)
    except (RuntimeError, ValueError, OSError) as err:
        raise ModelNotFound(f"cannot load {what} model {resolved.name} from {resolved.path}: {err}") from None


def read_clip(audio: AudioFile, start_s: float, end_s: float):
    """The samples of ``[start_s, end_s)`` padded by PAD_S on each side, at most MAX_SEGMENT_S."""
    rate = audio.sample_rate_hz
    a = max(0, int((start_s - PAD_S) * rate))
    return audio.read(a, min(int((end_s + PAD_S) * rate), a + int(MAX_SEGMENT_S * rate)))


def read_clips(wav: Path, spans: Sequence[tuple[float, float]]) -> list:
    """:func:`read_clip` of each ``(start_s, end_s)``, read straight from the WAV."""
    with AudioFile(wav) as audio:
        return [read_clip(audio, start_s, end_s) for start_s, end_s in spans]


def encode(model, clips: Sequence) -> tuple[Any, list[int]]:
    """The encoder output for a batch of clips, and each clip's number of mel frames
    (what ``align`` needs to score a text against the clip)."""
    import numpy as np
    from faster_whisper.audio import pad_or_trim

    extractor = model.feature_extractor
    features, frames = [], []
    for clip in clips:
        if len(clip) < extractor.hop_length:
            clip = np.zeros(extractor.hop_length * 2, dtype=np.float32)
        mel = extractor(clip)[..., :-1]
        frames.append(int(min(mel.shape[-1], extractor.nb_max_frames)))
        features.append(pad_or_trim(mel))
    return model.encode(np.stack(features)), frames


def prompt(model, language: str, previous: Sequence[int], task: str = "translate") -> list[int]:
    """Whisper's decoder prompt: ``previous`` text tokens, then the task in ``language``, no timestamps."""
    from faster_whisper.tokenizer import Tokenizer

    tokenizer = Tokenizer(model.hf_tokenizer, True, task=task, language=language)
    return model.get_prompt(tokenizer, list(previous), without_timestamps=True)
