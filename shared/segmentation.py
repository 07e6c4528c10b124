"""Segmentation scores: a pyannote segmentation model's raw output over a whole file, kept so
the model runs once per job (pyannote-vad writes them, diarization reads them).

The file is an ``.npz`` (numpy's zip of arrays, written with ``savez_compressed``):

- ``scores``: float32, (chunks, frames per chunk, classes): the model's output per chunk,
  converted to one activation per local speaker (powerset models) and not aggregated, the
  ``SlidingWindowFeature`` that pyannote.audio's ``SpeakerDiarization.get_segmentations`` gives;
- ``chunks``: float64 [start, duration, step] of the sliding window over the audio, in seconds;
- ``meta``: one JSON string: ``model`` (the segmentation model's identity: name, path, source,
  revision), ``step`` (the window step as a fraction of the window, as the diarization option
  spells it), ``audio_samples`` and ``sample_rate_hz`` of the audio the scores were made from,
  ``device``, ``schema_version``.

No pickled objects: the file loads with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shared.errors import InputError
from shared.fsio import atomic_write_bytes

SCORES_VERSION = 1
MODEL_KEYS = ("name", "source", "revision")  # what makes two segmentation models the same (a path differs between images)


@dataclass(frozen=True)
class SegmentationScores:
    scores: np.ndarray  # (chunks, frames, classes) float32
    chunk_start_s: float
    chunk_duration_s: float
    chunk_step_s: float
    step: float  # chunk_step_s / chunk_duration_s, as the option that asked for it said it
    model: dict[str, Any]
    audio_samples: int
    sample_rate_hz: int
    details: dict[str, Any] = field(default_factory=dict)  # device and the like: recorded, never compared

    @property
    def chunks(self) -> int:
        return int(self.scores.shape[0])

    def mismatch(self, model: dict[str, Any], step: float, audio_samples: int, sample_rate_hz: int) -> str:
        """Why these scores cannot stand in for a segmentation made with ``model`` at ``step`` over
        audio of ``audio_samples`` samples; "" when they can."""
        if self.sample_rate_hz != sample_rate_hz or self.audio_samples != audio_samples:
            return (f"they were made from {self.audio_samples} samples at {self.sample_rate_hz} Hz, "
                    f"the audio has {audio_samples} at {sample_rate_hz} Hz")
        ours = {k: self.model.get(k) for k in MODEL_KEYS}
        theirs = {k: model.get(k) for k in MODEL_KEYS}
        if ours != theirs:
            return f"they were made by {_describe(ours)}, diarization uses {_describe(theirs)}"
        if not math.isclose(self.step, step, rel_tol=0.0, abs_tol=1e-9):
            return f"they were made at step {self.step:g} of the window, diarization uses {step:g}"
        return ""


def _describe(model: dict[str, Any]) -> str:
    return f"{model.get('name')} ({model.get('source')} {model.get('revision')})"


def write(path: Path, record: SegmentationScores) -> None:
    meta = {"schema_version": SCORES_VERSION, "model": record.model, "step": record.step,
            "audio_samples": record.audio_samples, "sample_rate_hz": record.sample_rate_hz, **record.details}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, scores=np.asarray(record.scores, dtype=np.float32),
                        chunks=np.array([record.chunk_start_s, record.chunk_duration_s, record.chunk_step_s], dtype=np.float64),
                        meta=np.array(json.dumps(meta, sort_keys=True)))
    atomic_write_bytes(path, buffer.getvalue())


def load(path: Path) -> SegmentationScores:
    """The scores in ``path``; an InputError naming the file when it is not such a file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            scores, chunks, meta = data["scores"], data["chunks"], json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError) as err:
        raise InputError(f"{path} holds no segmentation scores: {err}") from None
    if scores.ndim != 3 or chunks.shape != (3,) or meta.get("schema_version") != SCORES_VERSION:
        raise InputError(f"{path} holds no segmentation scores of version {SCORES_VERSION} "
                         f"(scores {scores.shape}, chunks {chunks.shape}, version {meta.get('schema_version')})")
    known = {"schema_version", "model", "step", "audio_samples", "sample_rate_hz"}
    return SegmentationScores(scores, float(chunks[0]), float(chunks[1]), float(chunks[2]), float(meta["step"]),
                              dict(meta["model"]), int(meta["audio_samples"]), int(meta["sample_rate_hz"]),
                              {k: v for k, v in meta.items() if k not in known})
