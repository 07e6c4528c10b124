"""Options of the speakers stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class SpeakersOptions:
    """Word timing and speaker attribution. ``align_model=auto`` aligns words
    with whisperx and the language's default wav2vec2 model when it is in the
    model cache, else keeps the ASR's word times (the lock says which). Each
    word gets the speaker of the exclusive turn it overlaps most, found
    through an interval index; words in overlapped speech or outside every
    turn are flagged. Names come from metadata.json's ``speakers`` map."""

    align_model: str = setting("auto", "ALIGN_MODEL", "auto (whisperx's default for the language when cached), none (ASR word times), a wav2vec2 CTC folder, torchaudio bundle name or Hugging Face id")
    device: str = setting("auto", "ALIGN_DEVICE", "auto, cpu or cuda", ("auto", "cpu", "cuda"))
