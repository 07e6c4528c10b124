"""Container tests: build the CPU image set (missing images only) and run it.

They need a docker engine with the compose plugin and BuildKit; without one
every test here is skipped with the reason. Run: make test-containers.
Images are built by the same executor users run (python3 -m host.containers),
so a cold first run takes a few minutes; later runs reuse the images.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Building the images takes minutes: these tests run when asked for (make
    test-containers, pytest tests/containers, or CONTAINER_TESTS=1), not in make test."""
    asked = os.environ.get("CONTAINER_TESTS") == "1" or any(
        HERE == Path(arg.split("::")[0]).resolve() or HERE in Path(arg.split("::")[0]).resolve().parents
        for arg in config.args)
    if asked:
        return
    skip = pytest.mark.skip(reason="container tests: run make test-containers (or CONTAINER_TESTS=1)")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


def _docker_problem() -> str | None:
    docker = os.environ.get("DOCKER") or "docker"
    if shutil.which(docker.split()[0]) is None:
        return "no docker CLI"
    for args in (["info"], ["compose", "version"]):
        result = subprocess.run([*docker.split(), *args], capture_output=True, text=True)
        if result.returncode != 0:
            return f"docker {' '.join(args)} fails: {(result.stderr or result.stdout).strip()[:200]}"
    return None


@pytest.fixture(scope="session")
def docker_ready() -> None:
    problem = _docker_problem()
    if problem:
        pytest.skip(f"container tests need a docker engine with compose: {problem}")


@pytest.fixture(scope="session")
def cpu_images(docker_ready) -> dict[str, str]:
    """The CPU profile's images, built if missing; stage name -> image reference."""
    from host.containers import images
    from host.containers.cli import Fail

    skip = set(filter(None, os.environ.get("SKIP_STAGES", "").split(",")))
    chosen = [s for s in stage_names() if s not in skip]
    try:
        images.ensure_images("cpu", chosen, tools=True)
    except Fail as err:
        pytest.fail(f"building the CPU images failed: {err}")
    return {img.name: img.ref(images.image_prefix(), images.image_tag()) for img in images.images("cpu", chosen)}


def stage_names() -> list[str]:
    from shared import graph

    return [s.name for s in graph.topological_order()]


@pytest.fixture
def host_dirs(tmp_path: Path, monkeypatch) -> dict[str, Path]:
    """A jobs folder and a model cache of this test's own, in the executor's environment."""
    dirs = {"jobs": tmp_path / "jobs", "cache": tmp_path / "cache", "media": tmp_path / "media"}
    for name in ("jobs", "media"):  # the cache is the executor's to make: for the container user (never chowned)
        dirs[name].mkdir()
    monkeypatch.setenv("JOBS_DIR", str(dirs["jobs"]))
    monkeypatch.setenv("MODEL_CACHE", str(dirs["cache"]))
    return dirs


def run_containers(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """python3 -m host.containers, as make run calls it (EXECUTOR=containers: a test never falls back)."""
    return subprocess.run([sys.executable, "-m", "host.containers", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO_ROOT, env={**os.environ, "EXECUTOR": "containers"})


def make_video(path: Path, audio: Path) -> Path:
    """A short MP4 (black frames + the given audio), as a user's input would be."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is needed on the host to make the test video")
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", "color=c=black:s=320x240:r=25", "-i", str(audio), "-shortest", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)], check=True, timeout=120)
    return path
