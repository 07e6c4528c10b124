"""The report of a real job: the native runner on the JFK recording writes report.html and
prints its path; headless Chromium shows the timeline drawn, the cues, the stage table and
the QC entries (a long shortest-cue duration makes some)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from host.report import write_report
from tests.conftest import REPO_ROOT, stage_env
from tests.report_job import chromium, dump_dom, read_png, screenshot

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def jfk_job(eval_data, tmp_path_factory) -> tuple[Path, str]:
    """The job folder and the runner's stdout."""
    chromium()  # skip before the minute the pipeline takes when there is no browser to look with
    jobs_dir = tmp_path_factory.mktemp("jobs")
    result = subprocess.run([sys.executable, "-m", "host.runner", str(eval_data / "jfk.flac"), "--jobs-dir", str(jobs_dir),
                             "--subtitles-min-duration-ms", "4000"],
                            cwd=REPO_ROOT, env=stage_env(jobs_dir), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    (summary,) = jobs_dir.glob("*/summary.json")
    return summary.parent, result.stdout


def test_the_runner_writes_the_report_and_prints_its_path(jfk_job):
    job, stdout = jfk_job
    page = job / "report.html"
    assert f"\nreport: {page}\n" in stdout and page.is_file()
    assert page.stat().st_size < 100_000  # the envelope decimated: 11 s in 10 ms buckets


def test_chromium_shows_cues_stages_qc_and_a_drawn_timeline(jfk_job, tmp_path):
    job, _ = jfk_job
    page = job / "report.html"
    dom = dump_dom(page, tmp_path / "profile")
    assert 'data-ready="1"' in dom
    cues = [line for line in (job / "subtitles" / "jfk.en.srt").read_text().split("\n\n") if line.strip()]
    for block in cues:  # every cue's text, in the list the script built
        assert block.split("\n", 2)[2] in dom, block
    stages = re.search(r'<table id="stages">(.*?)</table>', dom, re.S).group(1)
    for stage in ("demux", "silero-vad", "asr", "diarization", "speakers", "subtitles", "mux"):
        assert f"<td>{stage}</td><td class=\"status-ran\">ran</td>" in stages
    assert "name=tiny.en" in stages  # the model asr used
    qc = json.loads((job / "subtitles" / "qc.json").read_text())
    assert qc["violation_count"] > 0
    entries = re.findall(r'<a href="#qc-\d+" data-qc="\d+" data-jump="1" data-track="jfk.en" data-cue="(\d+)"', dom)
    assert [int(n) for n in entries] == [v["cue"] for v in qc["violations"]]
    left, top, width, height = map(int, re.search(r'data-timeline="([\d,]+)"', dom).group(1).split(","))
    image_width, _, rows, bpp = read_png(screenshot(page, tmp_path / "shot.png", tmp_path / "profile",
                                                    (1000, top + height + 40)))
    background = {(255, 255, 255), (247, 249, 252)}
    drawn = [tuple(row[x * bpp:x * bpp + 3]) not in background for row in rows[top:top + height]
             for x in range(left, min(left + width, image_width))]
    assert sum(drawn) / len(drawn) > 0.15, f"{sum(drawn)} of {len(drawn)} timeline pixels drawn"


def test_a_report_is_quick_to_make(jfk_job):
    job, _ = jfk_job
    started = time.perf_counter()
    write_report(job)
    assert time.perf_counter() - started < 5
