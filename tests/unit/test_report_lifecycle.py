"""Every finish of a job writes report.html beside summary.json and prints its path; a report
that cannot be made is one warning line and the job's result is untouched (host/lifecycle.py,
host/report/__init__.py). Also ``python -m host.report --job`` and ``make report``."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from host import lifecycle
from host import report as report_module
from host.report import __main__ as report_cli
from shared.lock import write_outcome
from tests.conftest import REPO_ROOT, stage_env
from tests.report_job import build_job


@pytest.fixture
def run(tmp_path, monkeypatch):
    for name in ("SKIP_STAGES", "FORCE_STAGES", "TARGET_LANGUAGES"):
        monkeypatch.delenv(name, raising=False)
    media = tmp_path / "film.wav"
    media.write_bytes(b"media bytes")
    opened = lifecycle.open_job(media, jobs_dir=tmp_path / "jobs", until="demux")
    opened.start()
    return opened


def test_a_finished_run_writes_report_html_and_prints_its_path(run, capsys):
    folder = run.job.stage_dir("demux")
    folder.mkdir()
    write_outcome(folder, {"stage": "demux", "status": "ran", "reasons": [], "wall_s": 1.0, "peak_rss_mb": 9.0})
    done = lifecycle.finish_job(run, {"demux": 0})
    assert done.exit_code == 0
    page = run.job.root / "report.html"
    assert page.is_file() and f"report: {page}\n" in capsys.readouterr().out
    assert f"<h1>{run.job.id}</h1>" in page.read_text()


def test_a_failed_run_that_is_kept_gets_a_report_too(run, capsys):
    folder = run.job.stage_dir("demux")
    folder.mkdir()
    write_outcome(folder, {"stage": "demux", "status": "failed", "error": "demux: no audio stream", "exit_code": 2})
    run.created = False  # a job from before: kept after the failure
    done = lifecycle.finish_job(run, {"demux": 2})
    assert done.exit_code == 2 and done.kept
    assert "demux: no audio stream" in (run.job.root / "report.html").read_text()


def test_a_report_that_fails_is_one_warning_and_the_job_still_succeeds(run, capsys, caplog, monkeypatch):
    def broken(job_root, summary=None):
        raise RuntimeError("disk\non fire")

    monkeypatch.setattr(report_module, "write_report", broken)
    folder = run.job.stage_dir("demux")
    folder.mkdir()
    write_outcome(folder, {"stage": "demux", "status": "ran", "reasons": [], "wall_s": 1.0, "peak_rss_mb": 9.0})
    with caplog.at_level(logging.WARNING, logger="host.report"):
        done = lifecycle.finish_job(run, {"demux": 0})
    assert done.exit_code == 0 and done.error is None and (run.job.root / "summary.json").is_file()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "report.html not written" in warnings[0] and "disk on fire" in warnings[0]
    assert "\n" not in warnings[0] and "report:" not in capsys.readouterr().out


def test_python_m_host_report_remakes_it_from_the_job_folder(tmp_path, capsys):
    root = build_job(tmp_path / "jobs" / "film-1")
    assert report_cli.main(["--job", "film-1", "--jobs-dir", str(tmp_path / "jobs")]) == 0
    assert capsys.readouterr().out == f"report: {root / 'report.html'}\n"
    assert report_cli.main(["--job", "nope", "--jobs-dir", str(tmp_path / "jobs")]) == 2
    assert capsys.readouterr().err.startswith("error: no job 'nope' in ")


def test_make_report_runs_it_for_job(tmp_path):
    root = build_job(tmp_path / "jobs" / "film-2")
    result = subprocess.run(["make", "-s", "report", "JOB=film-2", f"PY={sys.executable}"], cwd=REPO_ROOT,
                            env=stage_env(tmp_path / "jobs"), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"report: {root / 'report.html'}"


def test_it_needs_only_the_standard_library_like_the_container_executor(tmp_path):
    """``python -S``: no site-packages, so no numpy, soundfile or pysubs2; the SRT is read by hand."""
    root = build_job(tmp_path / "jobs" / "film-3")
    code = ("import sys; from host.report import write_report; from pathlib import Path; "
            "print(write_report(Path(sys.argv[1]))); "
            "print(sorted(m for m in ('numpy', 'soundfile', 'pysubs2') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-S", "-c", code, str(root)], cwd=REPO_ROOT, capture_output=True, text=True,
                            env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [str(root / "report.html"), "[]"]
    page = (root / "report.html").read_text()
    assert "Hello there, Ana." in page and "track film.es: only vtt, ass files, which need pysubs2 (the venv)" in page
