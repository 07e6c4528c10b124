"""The model cache's place and the offline environment every stage runs in.

Kept apart from the resolvers (shared/models.py) because every stage process
applies it (shared/stage.py): a change to one resolver then makes stale only
the stages that resolve that kind of model, not every stage.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


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
