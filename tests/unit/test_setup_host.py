"""make setup's host part (docker/setup-host.sh) where it cannot do its work: one line saying so
and pointing to make run-native, never a half-done silent success. The machine is faked: PATH
holds only stubs and the few tools the script uses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "docker" / "setup-host.sh"
TOOLS = ("bash", "sh", "grep", "sed", "tr", "tail", "sleep", "timeout", "cat", "dirname", "env")


@pytest.fixture
def machine(tmp_path):
    """A PATH with the script's plain tools, ``id`` saying uid 1000 and no sudo, apt or docker."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            (folder / tool).symlink_to(found)
    (folder / "python3").symlink_to(Path(sys.executable).resolve())  # an interpreter with venv and ensurepip
    stub(folder, "id", 'case "$1" in -u) echo 1000 ;; -un) echo someone ;; *) echo "uid=1000(someone)" ;; esac')
    return folder


def stub(folder: Path, name: str, body: str = "exit 0") -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def setup_host(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {"PATH": str(folder), "HOME": str(folder.parent), **env}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=environ, timeout=60)


def test_without_apt_it_says_what_to_install_in_one_line_and_fails_without_ffmpeg(machine):
    result = setup_host(machine, "packages")
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("setup: no apt-get here (not Debian/Ubuntu): cannot install ffmpeg")
    assert "make run-native" in lines[0] and "docker.io" in lines[0]
    assert any("make test skips" in line for line in lines)


def test_without_root_or_sudo_docker_is_left_to_make_run_native(machine):
    for tool in ("ffmpeg", "ffprobe", "flite", "sox", "chromium", "redis-server", "apt-get"):
        stub(machine, tool)
    result = setup_host(machine)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("setup: not root and no sudo: cannot install docker.io mmdebstrap")
    assert "make run-native" in lines[0]
    assert lines[1] == "setup: docker: not installed (see above); make run-native INPUT=movie.mp4 runs the same stages without Docker"


def test_a_remote_docker_is_left_alone(machine):
    for tool in ("ffmpeg", "ffprobe", "flite", "sox", "chromium", "redis-server", "docker"):
        stub(machine, tool)
    result = setup_host(machine, "docker", DOCKER_HOST="tcp://builder.example:2376")
    assert result.returncode == 0
    (line,) = result.stdout.strip().splitlines()
    assert "DOCKER_HOST=tcp://builder.example:2376 is a remote or rootless engine: setup leaves it alone" in line
    assert "make run-native" in line


def test_what_is_done_is_skipped(machine):
    for tool in ("ffmpeg", "ffprobe", "flite", "sox", "chromium", "redis-server", "dockerd", "mmdebstrap"):
        stub(machine, tool)
    stub(machine, "docker", 'case "$1 $2" in "compose version") echo 5.6.1 ;; "info "*|"info") exit 0 ;; '
                            '"version --format") echo 20.10.24 ;; "image inspect") exit 0 ;; esac; exit 0')
    result = setup_host(machine, SETUP_DOCKER="1", NATIVE_PYTHON="", DOCKER="docker")
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("setup: system packages:") and "already installed" in lines[0]
    assert "setup: docker compose 5.6.1: already there" in lines
    assert any(line.startswith("setup: docker engine: running") for line in lines)
    assert "setup: base image: python:3.11-slim-bookworm is here" in lines
    assert not any("installing" in line or "starting" in line for line in lines), lines


def test_setup_docker_0_leaves_docker_out(machine):
    for tool in ("ffmpeg", "ffprobe", "flite", "sox", "chromium", "redis-server"):
        stub(machine, tool)
    result = setup_host(machine, SETUP_DOCKER="0")
    assert result.returncode == 0
    assert result.stdout.strip().splitlines()[-1].startswith("setup: docker: left out (SETUP_DOCKER=0)")


def test_the_makefile_runs_it_for_setup():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "bash docker/setup-host.sh packages" in makefile and "bash docker/setup-host.sh docker" in makefile
    assert os.access(SCRIPT, os.X_OK)


def test_chromium_is_installed_for_the_report_tests_where_apt_has_it(machine, tmp_path):
    for tool in ("ffmpeg", "ffprobe", "flite", "sox", "redis-server"):
        stub(machine, tool)
    stub(machine, "id", 'case "$1" in -u) echo 0 ;; *) echo "uid=0(root)" ;; esac')
    log = tmp_path / "apt.log"
    stub(machine, "apt-get", f'echo "$@" >> {log}')
    stub(machine, "apt-cache", 'echo "  Candidate: 120.0-1"')
    result = setup_host(machine, "packages", SETUP_DOCKER="0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "setup: installing chromium (apt-get;" in result.stdout
    assert log.read_text().splitlines()[-1].endswith("install -y -qq --no-install-recommends chromium")


def test_without_a_chromium_package_the_rest_is_installed_and_it_says_so(machine, tmp_path):
    for tool in ("ffmpeg", "ffprobe", "flite", "redis-server"):
        stub(machine, tool)
    stub(machine, "id", 'case "$1" in -u) echo 0 ;; *) echo "uid=0(root)" ;; esac')
    log = tmp_path / "apt.log"
    stub(machine, "apt-get", f'echo "$@" >> {log}')
    stub(machine, "apt-cache", 'echo "  Candidate: (none)"')  # Ubuntu: chromium is a snap
    result = setup_host(machine, "packages", SETUP_DOCKER="0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "setup: no chromium package here: install Chromium or Chrome yourself, else make test skips" in result.stdout
    assert log.read_text().splitlines()[-1].endswith("--no-install-recommends sox")


def test_redis_server_is_installed_for_the_queue_tests(machine):
    for tool in ("ffmpeg", "ffprobe", "flite", "sox", "chromium", "apt-get"):
        stub(machine, tool)
    result = setup_host(machine, "packages")
    line = result.stdout.strip().splitlines()[0]
    assert line.startswith("setup: not root and no sudo: cannot install redis-server"), line
    assert "make test skips" in result.stdout
