"""The docker CLI: how to call it, and whether it can do what the pipeline needs.

:func:`docker_problem` checks, in this order, what ``make run`` needs: a docker
CLI, an engine that answers, permission on its socket, the compose v2 plugin,
and a way to build with BuildKit. Each problem is one line: the cause and the
fix. Settings: ``DOCKER`` (the CLI; default ``docker``).
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CHECK_TIMEOUT_S = 60  # a remote engine that does not answer


class Fail(Exception):
    """A one-line reason for the user, and the exit code."""

    def __init__(self, message: str, code: int = 1, job: str | None = None):
        super().__init__(message)
        self.code = code
        self.job = job


def say(message: str) -> None:
    print(f"[containers] {message}", file=sys.stderr, flush=True)


def docker() -> list[str]:
    return shlex.split(os.environ.get("DOCKER") or "docker")


def quiet(cmd: list[str], env: dict[str, str] | None = None, timeout: float | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)


def run(cmd: list[str], env: dict[str, str] | None = None) -> int:
    """A command whose output the user sees; its exit status."""
    return subprocess.run(cmd, env=env, check=False).returncode


def _client_major(cli: list[str]) -> int:
    out = quiet([*cli, "version", "--format", "{{.Client.Version}}"], timeout=CHECK_TIMEOUT_S).stdout.strip()
    match = re.match(r"(\d+)\.", out)
    return int(match.group(1)) if match else 0


NO_BUILDKIT = ("docker cannot build with BuildKit: install the docker buildx plugin (docker-buildx-plugin or "
               "docker-buildx), or set DOCKER to a docker CLI older than 23 (Debian's docker.io)")


@functools.lru_cache(maxsize=1)
def build_command() -> tuple[list[str], dict[str, str]]:
    """How to run a BuildKit build here: ``docker buildx build --load`` when the buildx
    plugin is installed; else ``DOCKER_BUILDKIT=1 docker build``, which only CLIs older
    than 23 still do themselves (Debian's docker.io 20.10 at /usr/bin/docker)."""
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    candidates = [docker()]
    if not os.environ.get("DOCKER") and Path("/usr/bin/docker").is_file():
        candidates.append(["/usr/bin/docker"])
    for cli in candidates:
        if shutil.which(cli[0]) is None:
            continue
        if quiet([*cli, "buildx", "version"], timeout=CHECK_TIMEOUT_S).returncode == 0:
            return [*cli, "buildx", "build", "--load"], env
        if 0 < _client_major(cli) < 23:
            if cli != candidates[0]:
                say(f"{candidates[0][0]} has no buildx plugin: building with {cli[0]} (BuildKit, no plugin needed)")
            return [*cli, "build"], env
    raise Fail(NO_BUILDKIT)


@dataclass(frozen=True)
class Problem:
    """Why docker cannot run the pipeline here, and what to do about it."""

    cause: str
    fix: str

    def line(self) -> str:
        return f"{self.cause}: {self.fix}"


def _last_line(result: subprocess.CompletedProcess) -> str:
    lines = (result.stderr or result.stdout or "").strip().splitlines()
    return lines[-1].strip() if lines else f"exit code {result.returncode}"


def docker_problem(compose: bool = True, build: bool = True) -> Problem | None:
    """None when docker can do what is asked; else the first thing in the way."""
    cli = docker()
    if shutil.which(cli[0]) is None:
        return Problem(f"docker is not installed ({cli[0]} not found)",
                       "run make setup (Debian/Ubuntu, as root or with sudo), or install Docker Engine "
                       "with the compose plugin; make run-native runs without Docker")
    try:
        server = quiet([*cli, "version", "--format", "{{.Server.Version}}"], timeout=CHECK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return Problem(f"the docker engine does not answer within {CHECK_TIMEOUT_S} s",
                       "check DOCKER_HOST and the engine (docker info); make run-native runs without Docker")
    if server.returncode != 0 or not server.stdout.strip():
        text = (server.stderr + server.stdout).lower()
        if "permission denied" in text:
            return Problem("this user may not use the docker engine (permission denied on its socket)",
                           "add it to the docker group (sudo usermod -aG docker $USER, then log in again) or run as root")
        if "cannot connect" in text or "is the docker daemon running" in text or "no such file" in text:
            return Problem("the docker engine is not running",
                           "start it: make setup (or sudo systemctl start docker)")
        return Problem(f"the docker engine does not answer ({_last_line(server)})",
                       "check DOCKER_HOST and the engine (docker info); make run-native runs without Docker")
    if compose:
        version = quiet([*cli, "compose", "version", "--short"], timeout=CHECK_TIMEOUT_S)
        if version.returncode != 0:
            return Problem("the docker compose v2 plugin is missing (docker compose version fails)",
                           "run make setup, or install docker-compose-plugin (Docker's packages) or "
                           "docker-compose-v2 (Ubuntu)")
        if version.stdout.strip().lstrip("v").startswith("1."):
            return Problem(f"docker compose is version {version.stdout.strip()}, compose v2 is needed",
                           "run make setup, or install docker-compose-plugin")
    if build:
        try:
            build_command()
        except Fail:
            return Problem("docker cannot build with BuildKit (no buildx plugin, and the CLI is 23 or newer)",
                           "install the docker buildx plugin (docker-buildx-plugin or docker-buildx), or set "
                           "DOCKER to a docker CLI older than 23 (Debian's docker.io)")
    return None


def require_docker(compose: bool = True, build: bool = True) -> None:
    problem = docker_problem(compose, build)
    if problem is not None:
        raise Fail(problem.line())


def image_exists(ref: str) -> bool:
    return quiet([*docker(), "image", "inspect", ref]).returncode == 0


def detect_profile() -> str:
    """gpu when the docker engine has the NVIDIA runtime, else cpu."""
    result = quiet([*docker(), "info", "--format", "{{json .Runtimes}}"], timeout=CHECK_TIMEOUT_S)
    if result.returncode != 0:
        raise Fail(f"docker info fails: {_last_line(result)} (is the engine running, and may this user use it?)")
    return "gpu" if "nvidia" in result.stdout else "cpu"


def resolve_profile(profile: str | None, profiles: tuple[str, ...] = ("cpu", "gpu")) -> str:
    profile = (profile or os.environ.get("PROFILE") or "auto").lower()
    if profile == "auto":
        chosen = detect_profile()
        say(f"profile {chosen} ({'the NVIDIA runtime is there' if chosen == 'gpu' else 'no NVIDIA runtime in docker info'};"
            " PROFILE=cpu|gpu overrides)")
        return chosen
    if profile not in profiles:
        raise Fail(f"unknown PROFILE {profile!r}: use auto, cpu or gpu", 2)
    return profile
