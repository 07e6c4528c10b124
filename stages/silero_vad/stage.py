"""Silero VAD over the demuxed audio: speech probabilities per 32 ms frame
(ONNX sequence model, CPU, streamed from disk), then speech regions by the
hysteresis in :mod:`stages.silero_vad.regions`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from shared import schema
from shared.audio import SAMPLE_RATE_HZ
from shared.log import get_logger
from shared.models import resolve_silero
from shared.options.silero_vad import SileroVadOptions
from shared.progress import ProgressHook, no_progress
from shared.stage import StageReport
from stages.silero_vad.probabilities import FRAME_SAMPLES, cpu_count, load_session, speech_probabilities
from stages.silero_vad.regions import VadParams, speech_regions

log = get_logger("stages.silero_vad")

STAGE = "silero-vad"


def model_identity(options: SileroVadOptions) -> dict[str, Any]:
    return resolve_silero(options.model).identity()


def detect(audio: Path, options: SileroVadOptions, hook: ProgressHook = no_progress) -> tuple[schema.SpeechRegions, dict[str, Any]]:
    """Speech regions of the demuxed audio, and metrics of the run."""
    params = VadParams.from_options(options)
    params.validate()  # bad options fail before the model is loaded
    resolved = resolve_silero(options.model)
    threads = cpu_count()
    session = load_session(resolved.path, threads)
    t0 = time.perf_counter()
    probs, info = speech_probabilities(audio, session, hook=hook)
    inference_s = time.perf_counter() - t0
    regions = tuple(speech_regions(probs, info.duration_s, params))
    record = schema.SpeechRegions(
        regions=regions,
        audio_duration_s=info.duration_s,
        producer=schema.stamp(STAGE, options, resolved.identity(), frames=int(len(probs))),
    )
    metrics = {
        "frames": int(len(probs)),
        "frame_ms": FRAME_SAMPLES * 1000 // SAMPLE_RATE_HZ,
        "audio_duration_s": round(info.duration_s, 3),
        "regions": len(regions),
        "speech_duration_s": round(record.speech_duration_s, 3),
        "speech_fraction": round(record.speech_duration_s / info.duration_s, 4) if info.duration_s else 0.0,
        "inference_s": round(inference_s, 3),
        "threads": threads,
    }
    return record, metrics


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: SileroVadOptions, hook: ProgressHook = no_progress) -> StageReport:
    record, metrics = detect(inputs["audio"], options, hook)
    schema.write(outputs["speech_regions"], record)
    notes = []
    if not record.regions:
        notes.append(f"no speech found in {metrics['audio_duration_s']:.1f} s of audio "
                     f"(threshold {options.threshold}); later stages get no speech regions")
    log.info("%d speech regions, %.1f s of speech in %.1f s of audio (%d frames, inference %.1f s)",
             metrics["regions"], metrics["speech_duration_s"], metrics["audio_duration_s"], metrics["frames"],
             metrics["inference_s"])
    return StageReport(model=record.producer.model, metrics=metrics, notes=notes)
