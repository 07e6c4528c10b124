"""Speaker diarization: who speaks when.

Reads the audio and the speech regions (pyannote-vad's when that stage ran,
else silero's), and pyannote-vad's segmentation scores when it ran: made by the
pipeline's own segmentation model at its step, they replace the pipeline's
first step (the model is not run again); otherwise the pipeline segments the
file itself and the producer and metrics say why. Writes ``speakers.json`` (turns, speakers, overlap regions,
the exclusive view), ``speakers.rttm`` and ``exclusive.rttm``. Labels are
``SPEAKER_00``, ``SPEAKER_01``, ... in order of first appearance. With
``mask_with_vad`` the turns are cut to the speech regions; with no speech
regions at all the pipeline is not run and the outputs are empty.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from shared import audio, schema
from shared import segmentation as segmentation_scores
from shared.fsio import atomic_write_text
from shared.log import get_logger
from shared.options.diarization import DiarizationOptions
from shared.progress import ProgressHook, no_progress
from shared.speakers import Diarization, to_rttm
from shared.stage import StageReport
from stages.diarization import pipeline as pipelines
from stages.diarization.turns import exclusive_view, mask_turns, overlap_regions, relabel, sort_turns

log = get_logger("stages.diarization")

STAGE = "diarization"
RTTM_URI = "audio"


def model_identity(options: DiarizationOptions) -> dict[str, Any]:
    return pipelines.choose(options).identity()


def make_record(turns, exclusive, regions, options: DiarizationOptions, duration_s: float,
                producer: schema.Producer) -> Diarization:
    """The Diarization record from raw pipeline turns (pure: no model)."""
    turns = sort_turns(turns)
    exclusive = sort_turns(exclusive) if exclusive is not None else exclusive_view(turns)
    if options.mask_with_vad and regions is not None:
        spans = [(r.start_s, r.end_s) for r in regions]
        turns, exclusive = mask_turns(turns, spans), mask_turns(exclusive, spans)
    turns, exclusive, speakers = relabel(turns, exclusive)
    return Diarization(speakers, tuple(turns), tuple(exclusive), tuple(overlap_regions(turns)), duration_s, producer)


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: DiarizationOptions,
        hook: ProgressHook = no_progress) -> StageReport:
    pipelines.check_options(options)
    bounds = pipelines.speaker_bounds(options)
    speech_path = inputs.get("refined_speech") or inputs["speech_regions"]
    speech = schema.load(speech_path, schema.SpeechRegions)
    choice = pipelines.choose(options)
    notes: list[str] = []
    made: dict[str, Any] = {"speech_regions_from": speech.producer.stage}
    metrics: dict[str, Any] = {"pipeline": choice.kind, "speech_regions_from": speech.producer.stage}
    if not speech.regions:
        turns, exclusive = [], []
        notes.append("no speech regions: no speakers (the pipeline was not run)")
    else:
        import torch

        device = pipelines.resolve_device(options.device)
        made["device"] = metrics["device"] = device
        t0 = time.perf_counter()
        pipeline = pipelines.load(choice, options, device)
        metrics["cpu_threads"] = torch.get_num_threads()
        scores = (segmentation_scores.load(inputs["segmentation_scores"])
                  if inputs.get("segmentation_scores") is not None else None)
        with audio.AudioFile(inputs["audio"]) as wav:
            why_not = pipelines.reuse_reason(choice, options, scores, wav.frames)
            made["segmentation_from"] = metrics["segmentation_from"] = "diarization" if why_not else "pyannote-vad"
            if why_not:
                made["segmentation_not_reused"] = metrics["segmentation_not_reused"] = why_not
                log.info("segmenting the audio here: pyannote-vad's scores are not reused: %s", why_not)
            t1 = time.perf_counter()
            turns, exclusive = pipelines.diarize(pipeline, wav, bounds,
                                                 lambda step, done, total: hook(step, done, total),
                                                 None if why_not else scores)
            t2 = time.perf_counter()
            duration_s = wav.duration_s
        counts = pipelines.clustering_counts(pipeline)
        metrics.update(counts)
        if counts:
            made["embeddings_clustered"] = counts["embeddings_clustered"]
            made["embeddings_assigned"] = counts["embeddings"] - counts["embeddings_clustered"]
        metrics.update(load_s=round(t1 - t0, 3), inference_s=round(t2 - t1, 3),
                       real_time_factor=round((t2 - t1) / duration_s, 4) if duration_s else 0.0)
    record = make_record(turns, exclusive, speech.regions, options, speech.audio_duration_s,
                         schema.stamp(STAGE, options, choice.identity(), **made))
    schema.write(outputs["diarization"], record)
    atomic_write_text(outputs["diarization_rttm"], to_rttm(record.turns, RTTM_URI))
    atomic_write_text(outputs["exclusive_rttm"], to_rttm(record.exclusive, RTTM_URI))
    if speech.regions and not record.turns:
        notes.append("the diarization pipeline found no speaker in the speech regions")
    metrics.update(speakers=len(record.speakers), turns=len(record.turns),
                   speech_s=round(record.speech_duration_s, 3), overlap_s=round(record.overlap_duration_s, 3))
    log.info("%d speakers, %d turns, %.1f s of speech, %.1f s overlapped (%s pipeline)", len(record.speakers),
             len(record.turns), record.speech_duration_s, record.overlap_duration_s, choice.kind)
    return StageReport(model=choice.identity(), metrics=metrics, notes=notes)
