"""What the built images are: non-root, torch-free where they should be,
labelled, with no secret in their configuration."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from shared import graph

TORCH_FREE = [s.name for s in graph.STAGES if "torch" not in s.packages]


def docker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*(os.environ.get("DOCKER") or "docker").split(), *args],
                          capture_output=True, text=True, timeout=300)


def inspect(ref: str) -> dict:
    result = docker("image", "inspect", ref)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[0]


@pytest.mark.parametrize("stage", [s.name for s in graph.STAGES])
def test_stage_image_runs_its_module_as_uid_1000(cpu_images, stage):
    ref = cpu_images.get(stage)
    if ref is None:
        pytest.skip(f"{stage} is switched off (SKIP_STAGES)")
    config = inspect(ref)["Config"]
    spec = graph.stage(stage)
    assert config["User"] == "1000:1000"
    assert config["Entrypoint"] == ["python", "-m", spec.module]
    assert config["Labels"]["org.opencontainers.image.title"] == f"whisperx-pipeline {stage}"
    env = "\n".join(config["Env"])
    assert "HF_HUB_OFFLINE=1" in env and "MODEL_CACHE=/shared-model-and-cache" in env
    assert "TOKEN" not in env.replace("TOKENIZERS", "") and "cacert" not in env.lower()
    help_run = docker("run", "--rm", "--network", "none", ref, "--help")
    assert help_run.returncode == 0 and "--job" in help_run.stdout


@pytest.mark.parametrize("stage", TORCH_FREE)
def test_torch_free_stages_have_no_torch(cpu_images, stage):
    ref = cpu_images.get(stage)
    if ref is None:
        pytest.skip(f"{stage} is switched off (SKIP_STAGES)")
    probe = docker("run", "--rm", "--network", "none", "--entrypoint", "python", ref, "-c",
                   "import importlib.util as u; print(bool(u.find_spec('torch')))")
    assert probe.stdout.strip() == "False", probe.stderr


def test_the_ca_secret_never_lands_in_a_layer(cpu_images):
    probe = docker("run", "--rm", "--network", "none", "--entrypoint", "sh", cpu_images["base"], "-c",
                   "test ! -e /run/secrets/cacert && echo clean")
    assert probe.stdout.strip() == "clean"
    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", cpu_images["base-runtime"]).stdout
    assert "BEGIN CERTIFICATE" not in history
