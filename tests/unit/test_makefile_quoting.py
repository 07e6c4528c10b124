"""No shell in user strings: make hands INPUT, METADATA, JOB, OPTIONS ... to the command as they were
typed, through the environment, so the shell never reads them as code (a stub python prints its argv)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture
def stub(tmp_path: Path) -> Path:
    script = tmp_path / "python"
    script.write_text(f"#!{sys.executable}\nimport json, os, sys\n"
                      "with open(os.environ['ARGV_OUT'], 'a') as out:\n    out.write(json.dumps(sys.argv[1:]) + '\\n')\n")
    script.chmod(0o755)
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / ".installed").touch()
    return script


def hostile(marker: Path) -> list[str]:
    return [f"Money$Heist{marker.name}.mp4", f"a`touch {marker}`b.mp4", f"it's \"quoted\" {marker.name}.mp4",
            f"a;touch {marker}.mp4", f"$(touch {marker}).mp4", f"$$(touch {marker}).mp4", f"-{marker.name}.mp4",
            f"x $HOME ${{PATH}} * {marker.name}.mkv"]


def make(stub: Path, target: str, **variables: str) -> list[list[str]]:
    out = stub.parent / "argv.jsonl"
    out.unlink(missing_ok=True)
    env = {**{k: v for k, v in os.environ.items() if k not in variables and k != "MAKEFLAGS"}, "ARGV_OUT": str(out)}
    proc = subprocess.run(["make", "-s", f"VENV={stub.parent / 'venv'}", f"PY={stub}", f"PYTHON={stub}", target,
                           *[f"{k}={v}" for k, v in variables.items()]],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def test_run_native_passes_every_name_exactly_and_runs_nothing(stub, tmp_path):
    marker = tmp_path / "pwned"
    for name in hostile(marker):
        options = f"--force asr --from `touch {marker}` $(touch {marker}) *"
        calls = make(stub, "run-native", INPUT=name, METADATA=name + ".json", GLOSSARY=name + ".tsv", OPTIONS=options)
        assert calls == [["-m", "host.runner", f"--metadata={name}.json", f"--glossary={name}.tsv",
                          *options.split(), "--", name]], name
        assert not marker.exists(), name


def test_stage_native_passes_job_and_stage_exactly(stub, tmp_path):
    marker = tmp_path / "pwned"
    for name in hostile(marker):
        calls = make(stub, "stage-native", STAGE="silero-vad", JOB=name, OPTIONS="--force")
        assert calls == [["-m", "stages.silero_vad", f"--job={name}", "--force"]], name
        assert not marker.exists(), name


def test_container_targets_pass_names_exactly(stub, tmp_path):
    marker = tmp_path / "pwned"
    for name in hostile(marker):
        calls = make(stub, "run", INPUT=name, JOB_ID=name, CONFIG=name + ".json", METADATA=name + ".m",
                     GLOSSARY=name + ".g", OPTIONS="--from asr", PROFILE="cpu")
        assert calls == [["-m", "host.containers", "run", "--profile=cpu", f"--job-id={name}", f"--config={name}.json",
                          f"--metadata={name}.m", f"--glossary={name}.g", "--from", "asr", "--", name]], name
        calls = make(stub, "stage", STAGE=name, JOB=name, OPTIONS="--force", PROFILE="cpu")
        assert calls == [["-m", "host.containers", "stage", name, f"--job={name}", "--profile=cpu", "--", "--force"]]
        calls = make(stub, "batch", INPUTS=f"{name} b.mkv", JOBS="2", PROFILE="cpu")
        assert calls == [["-m", "host.containers", "batch", "--jobs=2", "--profile=cpu", "--", *name.split(), "b.mkv"]]
        calls = make(stub, "models", ASR_MODEL=name, HF_MODELS=name)
        assert calls == [["-m", "host.containers", "models", f"--model={name}", f"--hf={name}"]]
        assert not marker.exists(), name


def test_report_passes_the_job_exactly(stub, tmp_path):
    marker = tmp_path / "pwned"
    for name in hostile(marker):
        assert make(stub, "report", JOB=name) == [["-m", "host.report", f"--job={name}"]], name
        assert not marker.exists(), name


def test_watch_passes_the_folder_exactly(stub, tmp_path):
    marker = tmp_path / "pwned"
    for name in hostile(marker):
        assert make(stub, "watch", DIR=name) == [["-m", "host.service.watch", "--", name]], name
        assert make(stub, "watch", DIR=name, ONCE="1") == [["-m", "host.service.watch", "--once", "--", name]], name
        assert not marker.exists(), name
