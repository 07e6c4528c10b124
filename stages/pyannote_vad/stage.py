"""Refine silero's speech regions with a pyannote segmentation model, and keep its scores.

The model slides over the whole file once, at diarization's window step
(``segmentation_step``, which follows DIARIZATION_SEGMENTATION_STEP), exactly
as pyannote.audio's ``SpeakerDiarization`` slides it: its raw scores per
window go to ``segmentation.npz`` (shared/segmentation.py), which diarization
reads instead of running the model again. The speech regions come from the
same scores, the way pyannote's ``VoiceActivityDetection`` makes them: the
most active local speaker per frame, windows overlap-added (Hamming-weighted),
thresholded. With ``combine=intersect`` only the speech inside silero's
regions (each widened by ``context_s``, neighbours joined) is kept; with
``pyannote`` all of it. Segmentation-3.0 (a powerset model) needs no
thresholds; older models (whisperx's bundled weights) use whisperx's onset 0.5
and offset 0.363.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from shared import graph, schema, segmentation
from shared.audio import SAMPLE_RATE_HZ, AudioFile
from shared.devices import torch_cpu_threads, torch_device
from shared.errors import InputError, ModelNotFound
from shared.log import get_logger
from shared.models import ResolvedModel, resolve_pyannote_segmentation
from shared.options.pyannote_vad import PyannoteVadOptions
from shared.progress import ProgressHook, no_progress
from shared.stage import StageReport, follow_links
from stages.pyannote_vad.spans import clip, to_regions, windows

log = get_logger("stages.pyannote_vad")

STAGE = "pyannote-vad"
ONSET, OFFSET = 0.5, 0.363  # for non-powerset models, as whisperx uses its bundled weights
BATCH_SIZE = 32  # windows the model takes at once (diarization's segmentation_batch_size)


def resolve_device(option: str) -> str:
    return torch_device(option, "PYANNOTE_VAD_DEVICE")


def model_identity(options: PyannoteVadOptions) -> dict[str, Any]:
    return resolve_pyannote_segmentation(options.model).identity()


def step_of(options: PyannoteVadOptions) -> float:
    """The window step as a fraction of the window (``auto`` followed to diarization's first)."""
    options = follow_links(graph.stage(STAGE), options)
    try:
        step = float(options.segmentation_step)
    except ValueError:
        raise InputError(f"pyannote-vad: segmentation_step is auto or a number, not {options.segmentation_step!r}") from None
    if not 0.0 < step <= 1.0:
        raise InputError("pyannote-vad: segmentation_step is a fraction of the window, above 0 and at most 1")
    return step


def check_options(options: PyannoteVadOptions) -> None:
    problems = []
    if options.context_s < 0:
        problems.append("context_s cannot be negative")
    if options.min_duration_on_s < 0 or options.min_duration_off_s < 0:
        problems.append("min_duration_on_s and min_duration_off_s cannot be negative")
    if options.cpu_threads < 0:
        problems.append("cpu_threads cannot be negative (0 means one per core)")
    if problems:
        raise InputError("pyannote-vad: " + "; ".join(problems))
    step_of(options)


def load_model(options: PyannoteVadOptions, device: str):
    """The resolved segmentation model, on ``device``."""
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
    import torch
    from pyannote.audio import Model

    resolved = resolve_pyannote_segmentation(options.model)
    try:
        model = Model.from_pretrained(resolved.path)
    except Exception as err:  # a corrupt or foreign checkpoint: say which
        raise ModelNotFound(f"cannot load pyannote segmentation model {resolved.name} from {resolved.path}: {err}") from None
    model.eval()
    return model.to(torch.device(device)), resolved


def segment(model, audio: AudioFile, step: float, hook: ProgressHook = no_progress):
    """The model's scores per window, (chunks, frames, local speakers), as
    ``SpeakerDiarization.get_segmentations`` makes them: the same window, step, batches and
    conversion (pyannote's ``Inference.infer`` runs each batch). The windows are read from the
    file a batch at a time, so memory does not grow with the audio: ``Inference.slide`` would
    take the whole waveform, 230 MB of float32 an hour (docs/FILM.md, "A film's cost")."""
    import numpy as np
    import torch
    from pyannote.audio.core.inference import Inference
    from pyannote.core import SlidingWindow, SlidingWindowFeature

    duration = model.specifications.duration
    inference = Inference(model, duration=duration, step=step * duration, skip_aggregation=True,
                          batch_size=BATCH_SIZE)
    window, hop = model.audio.get_num_samples(duration, SAMPLE_RATE_HZ), round(inference.step * SAMPLE_RATE_HZ)
    whole, last = window_starts(audio.frames, window, hop)
    total = float(len(whole) + (last is not None))
    batches = [whole[k:k + BATCH_SIZE] for k in range(0, len(whole), BATCH_SIZE)]
    if last is not None:
        batches.append([last])  # alone, as pyannote infers it
    outputs, done = [], 0
    hook("segmentation", 0.0, total)
    for batch in batches:
        span = audio.read_padded(batch[0], batch[-1] + window)  # overlapping windows: one read; the last zero-padded
        chunks = np.stack([span[a - batch[0]:a - batch[0] + window] for a in batch])[:, None, :]
        outputs.append(inference.infer(torch.from_numpy(chunks)))
        done += len(batch)
        hook("segmentation", float(done), total)
    return SlidingWindowFeature(np.vstack(outputs), SlidingWindow(start=0.0, duration=duration, step=inference.step))


def window_starts(samples: int, window: int, hop: int) -> tuple[list[int], int | None]:
    """First sample of each window, as ``Inference.slide`` places them: every ``hop`` samples
    while a whole window fits; then the start of one last, zero-padded window where samples are
    left over (None when none are)."""
    whole = (samples - window) // hop + 1 if samples >= window else 0
    last = whole * hop if samples < window or (samples - window) % hop > 0 else None
    return [k * hop for k in range(whole)], last


def speech_from(scores, model, duration_s: float, options: PyannoteVadOptions) -> list[tuple[float, float]]:
    """Speech intervals over the whole file from the per-window scores, as pyannote's
    ``VoiceActivityDetection`` makes them: per frame the most active local speaker, windows
    overlap-added (Hamming-weighted, warm-up frames left out), then thresholded."""
    import numpy as np
    from pyannote.audio.core.inference import Inference
    from pyannote.audio.utils.signal import Binarize
    from pyannote.core import Segment, SlidingWindowFeature

    active = SlidingWindowFeature(np.max(scores.data, axis=-1, keepdims=True), scores.sliding_window)
    speech = Inference.aggregate(active, model.receptive_field, warm_up=model.specifications.warm_up,
                                 hamming=True, missing=0.0)
    speech.data = speech.crop(Segment(0.0, duration_s), mode="loose")  # the last window's padding
    onset, offset = (0.5, 0.5) if model.specifications.powerset else (ONSET, OFFSET)
    binarize = Binarize(onset=onset, offset=offset, min_duration_on=options.min_duration_on_s,
                        min_duration_off=options.min_duration_off_s)
    return [(part.start, part.end) for part in binarize(speech).get_timeline().support()]


def refine(audio: Path, speech: schema.SpeechRegions, options: PyannoteVadOptions,
           hook: ProgressHook = no_progress) -> tuple[schema.SpeechRegions, segmentation.SegmentationScores, dict[str, Any]]:
    """(refined regions, the scores they came from, metrics)."""
    import numpy as np
    import torch

    check_options(options)
    step = step_of(options)
    device = resolve_device(options.device)
    threads = torch_cpu_threads(options.cpu_threads, device)
    with AudioFile(audio) as wav:
        samples = wav.frames
        duration_s = wav.duration_s
        spans = windows(speech.regions, options.context_s, duration_s)
        resolved: ResolvedModel = resolve_pyannote_segmentation(options.model)
        t0 = time.perf_counter()
        if not samples or (not spans and options.combine != "pyannote"):
            # nothing to refine, and nothing for diarization to reuse: it does not run without speech regions
            scores = segmentation.SegmentationScores(np.zeros((0, 0, 0), dtype=np.float32), 0.0, 0.0, 0.0, step,
                                                     resolved.identity(), samples, SAMPLE_RATE_HZ, {"device": device})
            found: list[tuple[float, float]] = []
        else:
            model, resolved = load_model(options, device)
            with torch.inference_mode():
                raw = segment(model, wav, step, hook)
            window = raw.sliding_window
            scores = segmentation.SegmentationScores(raw.data.astype(np.float32), window.start, window.duration,
                                                     window.step, step, resolved.identity(), samples, SAMPLE_RATE_HZ,
                                                     {"device": device})
            found = speech_from(raw, model, duration_s, options)
            if options.combine != "pyannote":
                found = [part for a, b in spans for part in clip(found, a, b)]
    inference_s = time.perf_counter() - t0
    regions = to_regions(found)
    record = schema.SpeechRegions(regions, speech.audio_duration_s or duration_s, schema.stamp(
        STAGE, options, resolved.identity(), device=device, refines=speech.producer.stage or "silero-vad",
        windows=len(spans), segmentation_step=step))
    metrics = {
        "windows": len(spans), "window_s": round(sum(b - a for a, b in spans), 3), "regions": len(regions),
        "speech_duration_s": round(record.speech_duration_s, 3),
        "silero_speech_duration_s": round(speech.speech_duration_s, 3),
        "segmentation_chunks": scores.chunks, "segmentation_step": step,
        "inference_s": round(inference_s, 3), "device": device, "cpu_threads": threads,
    }
    return record, scores, metrics


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: PyannoteVadOptions,
        hook: ProgressHook = no_progress) -> StageReport:
    options = follow_links(graph.stage(STAGE), options)  # segmentation_step=auto: diarization's, recorded as such
    speech = schema.load(inputs["speech_regions"], schema.SpeechRegions)
    record, scores, metrics = refine(inputs["audio"], speech, options, hook)
    schema.write(outputs["refined_speech"], record)
    segmentation.write(outputs["segmentation_scores"], scores)
    notes = []
    if not record.regions:
        notes.append("pyannote found no speech in the silero regions: later stages get no refined speech regions")
    log.info("%d refined regions, %.1f s of speech (silero: %.1f s) in %d windows; %d segmentation chunks in %.1f s",
             metrics["regions"], metrics["speech_duration_s"], metrics["silero_speech_duration_s"],
             metrics["windows"], metrics["segmentation_chunks"], metrics["inference_s"])
    return StageReport(model=record.producer.model, metrics=metrics, notes=notes)
