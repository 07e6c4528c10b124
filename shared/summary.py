"""A job's summary (``<job>/summary.json``), the same for every executor.

    summary = summarize(job, order, outcomes, wall_s)
    write_summary_file(job, summary)

The native and compose runners (host/lifecycle.py ``finish_job``) and the queue worker
(fleet/work.py, after a job's last stage or its failure) build it here, so a job's summary
reads the same whoever ran it. ``outcomes``: per stage, what it did in this run (``status``:
``ran``, ``fresh``, ``skipped``, ``not run``, ``failed (n)``...; ``error`` when it failed).
The wall times and memory peaks of the stages that finished come from their locks, the outputs
from the artifacts on disk. Standard library and ``shared`` only.
"""

from __future__ import annotations

from typing import Any

from shared.fsio import atomic_write_json, read_json
from shared.job import Job
from shared.lock import read_lock
from shared.schema import MediaInfo, MuxManifest, SubtitleManifest

__all__ = ["FINISHED", "SUMMARY_FILE", "summarize", "write_summary_file"]

SUMMARY_FILE = "summary.json"
FINISHED = ("ran", "fresh")  # statuses of a stage that did its work in this run


def summarize(job: Job, order: list[str], outcomes: dict[str, dict[str, Any]], wall_s: float) -> dict[str, Any]:
    """The JSON-ready summary of a run of ``order`` (graph order) on ``job``."""
    stages = []
    for name in order:
        status = outcomes.get(name, {}).get("status", "not run")
        lock = read_lock(job.stage_dir(name)) if status in FINISHED else None  # else its timings are an older run's
        timings = lock.timings if lock else {}
        stages.append({
            "stage": name,
            "status": status,
            "wall_s": timings.get("wall_s"),
            "peak_rss_mb": timings.get("peak_rss_mb"),
            "notes": (lock.report.get("notes", []) if lock else []),
        })
    summary: dict[str, Any] = {"job": job.id, "folder": str(job.root), "input": job.input_record().path,
                               "wall_s": round(wall_s, 3), "stages": stages, "outputs": {}}
    media_path = job.artifact_path("media_info")
    if media_path.is_file():
        info = MediaInfo.from_json(read_json(media_path))
        summary["duration_s"] = info.duration_s
    subs_path = job.artifact_path("subtitles")
    if subs_path.is_file():
        manifest = SubtitleManifest.from_json(read_json(subs_path))
        summary["outputs"]["subtitles"] = [str(subs_path.parent / f.path) for f in manifest.files]
        summary["cues"] = manifest.cue_count
    qc_path = job.artifact_path("qc_report")
    if qc_path.is_file():
        summary["qc_issues"] = read_json(qc_path).get("cues_with_violations", 0)
        summary["outputs"]["qc_report"] = str(qc_path)
    mux_path = job.artifact_path("muxed_media")
    if mux_path.is_file():
        summary["outputs"]["media"] = str(mux_path.parent / MuxManifest.from_json(read_json(mux_path)).path)
    return summary


def write_summary_file(job: Job, summary: dict[str, Any]) -> None:
    """``<job>/summary.json``, atomically."""
    atomic_write_json(job.root / SUMMARY_FILE, summary)
