"""No tracebacks from the runner: every bad job file or argument ends in one line and a non-zero exit,
and a rejected job leaves nothing behind (python -m host.runner, as users run it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from host.jobs import create_job
from shared.errors import JobError
from shared.job import validate_job_id
from tests.conftest import REPO_ROOT, stage_env

DEEP = "[" * 3000 + "]" * 3000
HUGE = "1" * 5000


@pytest.fixture
def media(tmp_path: Path) -> Path:
    path = tmp_path / "film.wav"
    path.write_bytes(b"RIFF not really audio")
    return path


def runner(*args: str, jobs_dir: Path | None = None, cwd: Path = REPO_ROOT, **env: str) -> subprocess.CompletedProcess:
    extra = ["--jobs-dir", str(jobs_dir)] if jobs_dir is not None else []
    return subprocess.run([sys.executable, "-m", "host.runner", *args, *extra], cwd=cwd,
                          env={**stage_env(None, **env), "PYTHONPATH": str(REPO_ROOT)},
                          capture_output=True, text=True, timeout=120)


def one_line(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    assert proc.returncode not in (0, None), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), proc.stderr
    for fragment in fragments:
        assert fragment in last, last
    return last


@pytest.mark.parametrize("content, fragment", [
    (DEEP, "nested too deeply"), ('{"asr": {"beam_size": ' + HUGE + "}}", "number"), (b"\xff\xfe{}", "UTF-8"),
])
def test_a_bad_config_is_one_line_and_leaves_no_job(media, tmp_path, jobs_dir, content, fragment):
    config = tmp_path / "config.json"
    config.write_bytes(content if isinstance(content, bytes) else content.encode())
    one_line(runner(str(media), "--config", str(config), "--until", "demux", jobs_dir=jobs_dir), str(config), fragment)
    assert list(jobs_dir.iterdir()) == []


def test_a_config_that_is_a_folder_is_one_line(media, tmp_path, jobs_dir):
    one_line(runner(str(media), "--config", str(tmp_path), "--until", "demux", jobs_dir=jobs_dir), "is a folder")
    assert list(jobs_dir.iterdir()) == []


def test_a_rejected_config_is_not_saved_for_later_runs(media, tmp_path, jobs_dir):
    create_job(media, jobs_dir=jobs_dir)
    config = tmp_path / "config.json"
    config.write_text('{"nope": {}}')
    one_line(runner(str(media), "--config", str(config), "--until", "demux", jobs_dir=jobs_dir), "nope")
    assert not any(jobs_dir.glob("*/config.json"))


@pytest.mark.parametrize("content, fragment", [
    ('{"synopsis": ' + DEEP + "}", "nested too deeply"), ('{"year": ' + HUGE + "}", "number"), ("{", "not valid JSON"),
])
def test_bad_metadata_is_one_line_and_leaves_no_job(media, tmp_path, jobs_dir, content, fragment):
    metadata = tmp_path / "metadata.json"
    metadata.write_text(content)
    one_line(runner(str(media), "--metadata", str(metadata), "--until", "demux", jobs_dir=jobs_dir), fragment)
    assert list(jobs_dir.iterdir()) == []


def test_jobs_dir_pointing_at_a_file_is_one_line(media, tmp_path):
    not_a_folder = tmp_path / "jobs"
    not_a_folder.write_text("")
    one_line(runner(str(media), "--until", "demux", jobs_dir=not_a_folder), "not a folder")


def test_a_corrupted_job_file_is_one_line(media, jobs_dir):
    job = create_job(media, jobs_dir=jobs_dir)
    (job.root / "job.json").write_text("{ truncated")
    one_line(runner(str(media), "--until", "demux", jobs_dir=jobs_dir), "job.json")


def test_job_json_is_not_rewritten_when_nothing_changed(media, jobs_dir):
    job = create_job(media, jobs_dir=jobs_dir)
    before = os.stat(job.root / "job.json")
    again = create_job(media, jobs_dir=jobs_dir)
    after = os.stat(again.root / "job.json")
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)


def test_job_ids_match_in_full():
    for bad in ("abc\n", "abc\r", "a b"):
        with pytest.raises(JobError):
            validate_job_id(bad)


def test_a_relative_jobs_dir_works_from_any_folder(media, tmp_path, eval_data):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = runner(str(eval_data / "jfk.flac"), "--until", "demux", cwd=elsewhere, JOBS_DIR="myjobs")
    assert proc.returncode == 0, proc.stderr
    assert list((elsewhere / "myjobs").glob("*/demux/lock.json"))
    assert json.loads(next((elsewhere / "myjobs").glob("*/summary.json")).read_text())["stages"][0]["status"] == "ran"
