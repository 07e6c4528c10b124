"""Refine silero's speech regions with a pyannote segmentation model.

pyannote's ``VoiceActivityDetection`` pipeline runs on the silero regions,
each widened by ``context_s`` (neighbours joined), one window of audio at a
time, read straight from the WAV; with ``combine=pyannote`` it runs on the
whole file instead. Segmentation-3.0 (a powerset model) needs no
thresholds; older models (whisperx's bundled weights) use whisperx's onset
0.5 and offset 0.363.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from shared import schema
from shared.audio import SAMPLE_RATE_HZ, AudioFile
from shared.devices import torch_device
from shared.errors import InputError, ModelNotFound
from shared.log import get_logger
from shared.models import resolve_pyannote_segmentation
from shared.options.pyannote_vad import PyannoteVadOptions
from shared.progress import ProgressHook, no_progress
from shared.stage import StageReport
from stages.pyannote_vad.spans import clip, to_regions, windows

log = get_logger("stages.pyannote_vad")

STAGE = "pyannote-vad"
ONSET, OFFSET = 0.5, 0.363  # for non-powerset models, as whisperx uses its bundled weights


def resolve_device(option: str) -> str:
    return torch_device(option, "PYANNOTE_VAD_DEVICE")


def model_identity(options: PyannoteVadOptions) -> dict[str, Any]:
    return resolve_pyannote_segmentation(options.model).identity()


def check_options(options: PyannoteVadOptions) -> None:
    problems = []
    if options.context_s < 0:
        problems.append("context_s cannot be negative")
    if options.min_duration_on_s < 0 or options.min_duration_off_s < 0:
        problems.append("min_duration_on_s and min_duration_off_s cannot be negative")
    if problems:
        raise InputError("pyannote-vad: " + "; ".join(problems))


def load_pipeline(options: PyannoteVadOptions, device: str):
    """pyannote's VoiceActivityDetection over the resolved segmentation model."""
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
    import torch
    from pyannote.audio import Model
    from pyannote.audio.pipelines import VoiceActivityDetection

    resolved = resolve_pyannote_segmentation(options.model)
    try:
        model = Model.from_pretrained(resolved.path)
    except Exception as err:  # a corrupt or foreign checkpoint: say which
        raise ModelNotFound(f"cannot load pyannote segmentation model {resolved.name} from {resolved.path}: {err}") from None
    pipeline = VoiceActivityDetection(segmentation=model)
    params: dict[str, float] = {"min_duration_on": options.min_duration_on_s, "min_duration_off": options.min_duration_off_s}
    if not model.specifications.powerset:
        params.update(onset=ONSET, offset=OFFSET)
    pipeline.instantiate(params)
    pipeline.to(torch.device(device))
    return pipeline, resolved


def read_span(wav: AudioFile, start_s: float, end_s: float):
    """(1, samples) float32 tensor of [start_s, end_s) from the open audio."""
    import torch

    return torch.from_numpy(wav.read_s(start_s, end_s)).unsqueeze(0)


def speech_in(pipeline, waveform) -> list[tuple[float, float]]:
    """Speech intervals (seconds from the waveform's start) found by the pipeline."""
    annotation = pipeline({"waveform": waveform, "sample_rate": SAMPLE_RATE_HZ})
    return [(seg.start, seg.end) for seg in annotation.get_timeline().support()]


def refine(audio: Path, speech: schema.SpeechRegions, options: PyannoteVadOptions,
           hook: ProgressHook = no_progress) -> tuple[schema.SpeechRegions, dict[str, Any]]:
    check_options(options)
    device = resolve_device(options.device)
    pipeline, resolved = load_pipeline(options, device)
    with AudioFile(audio) as wav:
        duration_s = wav.duration_s
        if options.combine == "pyannote":
            spans = [(0.0, duration_s)] if duration_s > 0 else []
        else:
            spans = windows(speech.regions, options.context_s, duration_s)
        total_s = sum(b - a for a, b in spans)
        found: list[tuple[float, float]] = []
        t0, done_s = time.perf_counter(), 0.0
        for a, b in spans:
            found.extend(clip(((a + s, a + e) for s, e in speech_in(pipeline, read_span(wav, a, b))), a, b))
            done_s += b - a
            hook("segmentation", done_s, total_s)
        inference_s = time.perf_counter() - t0
    regions = to_regions(found)
    record = schema.SpeechRegions(regions, speech.audio_duration_s or duration_s, schema.stamp(
        STAGE, options, resolved.identity(), device=device, refines=speech.producer.stage or "silero-vad",
        windows=len(spans)))
    metrics = {
        "windows": len(spans), "window_s": round(total_s, 3), "regions": len(regions),
        "speech_duration_s": round(record.speech_duration_s, 3),
        "silero_speech_duration_s": round(speech.speech_duration_s, 3),
        "inference_s": round(inference_s, 3), "device": device,
    }
    return record, metrics


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: PyannoteVadOptions,
        hook: ProgressHook = no_progress) -> StageReport:
    speech = schema.load(inputs["speech_regions"], schema.SpeechRegions)
    record, metrics = refine(inputs["audio"], speech, options, hook)
    schema.write(outputs["refined_speech"], record)
    notes = []
    if not record.regions:
        notes.append("pyannote found no speech in the silero regions: later stages get no refined speech regions")
    log.info("%d refined regions, %.1f s of speech (silero: %.1f s) from %d windows in %.1f s",
             metrics["regions"], metrics["speech_duration_s"], metrics["silero_speech_duration_s"],
             metrics["windows"], metrics["inference_s"])
    return StageReport(model=record.producer.model, metrics=metrics, notes=notes)
