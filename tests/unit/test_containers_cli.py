"""make run without a usable docker: one line naming the cause and the fix, never a traceback;
EXECUTOR=auto runs the job natively instead, EXECUTOR=containers refuses. The docker CLI here
is a stub executable on PATH that answers like the real one in each situation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from host.containers import cli
from tests.conftest import REPO_ROOT

# What the real CLI prints (docker 20.10-28.x) in each situation, by the stub's mode.
STUB = r"""#!/bin/sh
mode="${STUB_DOCKER_MODE:-ok}"
case "$1 $2" in
  "version --format")
    case "$3" in
      *Client*) echo "${STUB_CLIENT_VERSION:-28.2.2}"; exit 0 ;;
    esac
    case "$mode" in
      down) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1 ;;
      denied) printf '%s%s\n' "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: " \
                "Get http://%2Fvar%2Frun%2Fdocker.sock/v1.24/version: dial unix /var/run/docker.sock: connect: permission denied" >&2
              exit 1 ;;
      *) echo "28.2.2"; exit 0 ;;
    esac ;;
  "compose version")
    [ "$mode" = nocompose ] && { echo "docker: 'compose' is not a docker command." >&2; echo "See 'docker --help'" >&2; exit 1; }
    echo "5.6.1"; exit 0 ;;
  "buildx version")
    [ "$mode" = nobuildkit ] && { echo "docker: 'buildx' is not a docker command." >&2; exit 1; }
    echo "github.com/docker/buildx v0.17.1"; exit 0 ;;
  "info --format") echo '{"runc":{"path":"runc"}}'; exit 0 ;;
esac
echo "stub docker: $*" >&2
exit 1
"""


@pytest.fixture
def stub_docker(tmp_path, monkeypatch):
    """A docker CLI on PATH (and in DOCKER) that answers as ``STUB_DOCKER_MODE`` says."""
    folder = tmp_path / "bin"
    folder.mkdir()
    docker = folder / "docker"
    docker.write_text(STUB)
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER", str(docker))
    cli.build_command.cache_clear()
    yield docker
    cli.build_command.cache_clear()


def problem(monkeypatch, mode: str) -> cli.Problem | None:
    monkeypatch.setenv("STUB_DOCKER_MODE", mode)
    cli.build_command.cache_clear()
    return cli.docker_problem()


def test_a_usable_docker_has_no_problem(stub_docker, monkeypatch):
    assert problem(monkeypatch, "ok") is None


@pytest.mark.parametrize("mode, cause, fix", [
    ("down", "the docker engine is not running", "make setup"),
    ("denied", "permission denied on its socket", "usermod -aG docker"),
    ("nocompose", "compose v2 plugin is missing", "make setup"),
    ("nobuildkit", "cannot build with BuildKit", "buildx plugin"),
])
def test_each_problem_names_its_cause_and_its_fix(stub_docker, monkeypatch, mode, cause, fix):
    found = problem(monkeypatch, mode)
    assert found is not None and cause in found.cause and fix in found.fix
    assert "\n" not in found.line()


def test_no_docker_at_all(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER", str(tmp_path / "nowhere" / "docker"))
    found = cli.docker_problem()
    assert "docker is not installed" in found.cause and "make setup" in found.fix and "make run-native" in found.fix


def test_an_old_cli_builds_with_buildkit_without_the_plugin(stub_docker, monkeypatch):
    monkeypatch.setenv("STUB_CLIENT_VERSION", "20.10.24+dfsg1")
    assert problem(monkeypatch, "nobuildkit") is None
    assert cli.build_command()[0] == [str(stub_docker), "build"]


# --- the command line, as make run calls it ----------------------------------------------------------------


def containers(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "host.containers", *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, env=env, timeout=120)


@pytest.fixture
def video(tmp_path) -> Path:
    path = tmp_path / "movie.mp4"
    path.write_bytes(b"not really a video")
    return path


@pytest.fixture
def native_stub(tmp_path) -> Path:
    """Stands in for the venv's python: records how the native runner would be called."""
    python = tmp_path / "venv-python"
    python.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'native-args'}\nexit 0\n")
    python.chmod(0o755)
    return python


@pytest.mark.parametrize("mode", ["down", "denied", "nocompose", "nobuildkit", "missing"])
def test_make_run_refuses_in_one_line_with_executor_containers(stub_docker, video, tmp_path, mode):
    env = {**os.environ, "STUB_DOCKER_MODE": mode, "EXECUTOR": "containers", "JOBS_DIR": str(tmp_path / "jobs")}
    if mode == "missing":
        env["DOCKER"] = str(tmp_path / "nowhere" / "docker")
    result = containers("run", str(video), env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert not (tmp_path / "jobs").exists(), "nothing is created before docker is known to work"


def test_make_run_falls_back_to_the_native_runner_with_a_notice(stub_docker, video, tmp_path, native_stub):
    env = {**os.environ, "STUB_DOCKER_MODE": "down", "NATIVE_PYTHON": str(native_stub)}
    env.pop("EXECUTOR", None)
    result = containers("run", str(video), "--force", "asr", "--until", "subtitles", "--job-id", "j1", env=env)
    assert result.returncode == 0, result.stderr
    notice = result.stderr.strip().splitlines()
    assert len(notice) == 1 and notice[0].startswith("notice: the docker engine is not running")
    assert "EXECUTOR=containers" in notice[0]
    args = (tmp_path / "native-args").read_text().split()
    assert args == ["-m", "host.runner", str(video), "--job-id", "j1", "--until", "subtitles", "--force", "asr"]


def test_without_the_venv_the_fallback_says_to_run_make_setup(stub_docker, video, tmp_path):
    env = {**os.environ, "STUB_DOCKER_MODE": "down", "EXECUTOR": "auto", "NATIVE_PYTHON": str(tmp_path / "no-venv")}
    result = containers("run", str(video), env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith("is missing: run make setup")


def test_executor_native_never_asks_docker(tmp_path, video, native_stub):
    env = {**os.environ, "EXECUTOR": "native", "NATIVE_PYTHON": str(native_stub), "DOCKER": str(tmp_path / "none")}
    assert containers("run", str(video), env=env).returncode == 0
    assert (tmp_path / "native-args").read_text().split()[:3] == ["-m", "host.runner", str(video)]


def test_an_unknown_executor_is_refused(video, tmp_path):
    result = containers("run", str(video), env={**os.environ, "EXECUTOR": "kubernetes"})
    assert result.returncode == 2 and "EXECUTOR='kubernetes': use auto, containers or native" in result.stderr


def test_other_commands_stop_with_the_line_too(stub_docker, tmp_path):
    env = {**os.environ, "STUB_DOCKER_MODE": "down"}
    for args in (["images", "--profile", "cpu"], ["stage", "asr", "--job", "x"], ["check"]):
        result = containers(*args, env=env)
        assert result.returncode == 1 and "Traceback" not in result.stderr, args
        assert "the docker engine is not running" in result.stderr + result.stdout, args


def test_make_run_goes_through_the_same_check(stub_docker, video, tmp_path):
    """The README's command itself, with EXECUTOR=containers: make passes the settings on."""
    env = {**os.environ, "STUB_DOCKER_MODE": "nocompose", "JOBS_DIR": str(tmp_path / "jobs")}
    result = subprocess.run(["make", "-s", "run", f"INPUT={video}", "EXECUTOR=containers"], capture_output=True,
                            text=True, cwd=REPO_ROOT, env=env, timeout=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "compose v2 plugin is missing" in errors[0], result.stderr
