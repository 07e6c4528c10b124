"""Shared fixtures: the eval data beside the repo, job folders in tmp, and a
way to run a stage exactly as users do (``python -m stages.<name>``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EVAL_DATA = REPO_ROOT.parent / "shared" / "eval-data"
JFK_REFERENCE = ("And so my fellow Americans, ask not what your country can do for you, "
                 "ask what you can do for your country.")


@pytest.fixture(autouse=True)
def _no_tmdb(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's TMDB_API_KEY never sends a test to the internet (tests/unit/test_tmdb.py serves its own)."""
    for name in ("TMDB_API_KEY", "TMDB_API_URL", "TMDB_TIMEOUT_S"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def eval_data() -> Path:
    if not (EVAL_DATA / "jfk.flac").is_file():
        pytest.skip(f"eval data not found at {EVAL_DATA} (the team's shared folder beside the repo)")
    return EVAL_DATA


@pytest.fixture
def jobs_dir(tmp_path: Path) -> Path:
    path = tmp_path / "jobs"
    path.mkdir()
    return path


def stage_env(jobs_dir: Path | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASR_", "VAD_", "SUBTITLE_", "MUX_", "DEMUX_", "TMDB_"))}
    env.update({"PYTHONPATH": str(REPO_ROOT), "LOG_FORMAT": "human"})
    if jobs_dir is not None:
        env["JOBS_DIR"] = str(jobs_dir)
    env.update(extra)
    return env


def run_stage(stage: str, job_id: str, jobs_dir: Path, *flags: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``python -m stages.<stage> --job <id>`` as a user would."""
    module = "stages." + stage.replace("-", "_")
    return subprocess.run(
        [sys.executable, "-m", module, "--job", job_id, "--jobs-dir", str(jobs_dir), *flags],
        cwd=REPO_ROOT, env=stage_env(jobs_dir, **env), capture_output=True, text=True, timeout=600,
    )


def make_media(path: Path, *args: str) -> Path:
    """Make a media file with ffmpeg: ``make_media(p, '-f', 'lavfi', '-i', 'sine=d=2')``."""
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args, str(path)],
                   check=True, timeout=120)
    return path
