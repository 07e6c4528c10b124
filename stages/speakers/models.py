"""The speakers stage's own models, resolved in the order of shared/models.py (an explicit path,
the model cache; alignment has no embedded default): whisperx's wav2vec2 CTC alignment models,
and where their torchaudio checkpoints and NLTK's sentence data live in the cache. Nothing here
downloads (``make models`` does). whisperx is imported only when its defaults are asked for."""

from __future__ import annotations

import os
from pathlib import Path

from shared.errors import ModelNotFound
from shared.models import ResolvedModel, hf_snapshot, local_folder, model_cache

# whisperx's default alignment models that are torchaudio bundles, and the file each downloads
# into $TORCH_HOME/hub/checkpoints. Other languages use Hugging Face repositories
# (whisperx.alignment.DEFAULT_ALIGN_MODELS_HF).
TORCHAUDIO_ALIGN_FILES = {
    "WAV2VEC2_ASR_BASE_960H": "wav2vec2_fairseq_base_ls960_asr_ls960.pth",
    "VOXPOPULI_ASR_BASE_10K_FR": "wav2vec2_voxpopuli_base_10k_asr_fr.pt",
    "VOXPOPULI_ASR_BASE_10K_DE": "wav2vec2_voxpopuli_base_10k_asr_de.pt",
    "VOXPOPULI_ASR_BASE_10K_ES": "wav2vec2_voxpopuli_base_10k_asr_es.pt",
    "VOXPOPULI_ASR_BASE_10K_IT": "wav2vec2_voxpopuli_base_10k_asr_it.pt",
}


def torch_checkpoints_dir() -> Path:
    return Path(os.environ.get("TORCH_HOME") or model_cache() / "torch") / "hub" / "checkpoints"


def nltk_data_dir() -> Path:
    """Where NLTK data (punkt_tab, which whisperx's alignment reads) lives in the model cache."""
    return model_cache() / "nltk_data"


def default_align_model(language: str) -> str | None:
    """whisperx's default alignment model name for a language, or None."""
    from whisperx.alignment import DEFAULT_ALIGN_MODELS_HF, DEFAULT_ALIGN_MODELS_TORCH

    return DEFAULT_ALIGN_MODELS_TORCH.get(language) or DEFAULT_ALIGN_MODELS_HF.get(language)


def cached_default_align_models() -> list[str]:
    """whisperx's default alignment models present in the cache (a download reruns the stage)."""
    from whisperx.alignment import DEFAULT_ALIGN_MODELS_HF, DEFAULT_ALIGN_MODELS_TORCH

    found = [name for name in DEFAULT_ALIGN_MODELS_TORCH.values()
             if (torch_checkpoints_dir() / TORCHAUDIO_ALIGN_FILES.get(name, "-")).is_file()]
    for repo in DEFAULT_ALIGN_MODELS_HF.values():
        snapshot = hf_snapshot(repo)
        if snapshot is not None:
            found.append(f"{repo}@{snapshot.name}")
    return found


def resolve_align_model(name: str, language: str) -> ResolvedModel | None:
    """The wav2vec2 CTC model that aligns words in ``language``, or None when there is none.

    ``none``: never align; ``auto``: whisperx's default for the language when it is in the
    cache, else None (the ASR word times are used); a folder (a Hugging Face Wav2Vec2ForCTC
    with its processor), a torchaudio bundle name or a repo id: that model, which must exist."""
    if name == "none":
        return None
    local = local_folder(name, "config.json", "a Hugging Face wav2vec2 model folder")
    if local is not None:
        return local
    wanted = default_align_model(language) if name == "auto" else name
    if wanted is None:
        return None
    if wanted in TORCHAUDIO_ALIGN_FILES:
        weights = torch_checkpoints_dir() / TORCHAUDIO_ALIGN_FILES[wanted]
        if weights.is_file():
            return ResolvedModel(wanted, str(weights), "cache", f"torchaudio:{weights.name}")
    else:
        snapshot = hf_snapshot(wanted)
        if snapshot is not None and (snapshot / "config.json").is_file():
            return ResolvedModel(wanted, str(snapshot), "cache", snapshot.name)
    if name == "auto":
        return None
    raise ModelNotFound(f"alignment model {name!r} is not in the model cache {model_cache()}",
                        f"download it once with network: make models ALIGN_MODEL={name}; or ALIGN_MODEL=auto")
