"""A submitted job's status, from its folder alone: the queue record (enqueued, started, the
failure) and each stage's ``outcome.json`` (ran, fresh, failed and why, wall time).

Stage states: ``skipped``, ``waiting`` (not yet enqueued), ``queued``, ``running`` (a worker
holds it; after a lost worker it stays so until Redis redelivers the task), ``done``,
``failed``. The job: ``done`` when every stage is done or skipped, ``failed`` when a stage
failed (its reason), ``cancelled`` when a cancel request came after its submission and it had
not finished (fleet/cancel.py; the stage it stopped shows ``cancelled``), else ``running`` or ``queued``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fleet.cancel import cancelled
from fleet.dispatch import FINISHED, outcome_since_submission
from fleet.record import read_record
from shared.fsio import read_json
from shared.job import Job
from shared.schema import SubtitleManifest


def job_status(job: Job) -> dict[str, Any] | None:
    """None when the job was never submitted to the queue."""
    record = read_record(job.root)
    if record is None:
        return None
    stages = []
    for name in record.order:
        entry = record.stages.get(name)
        row: dict[str, Any] = {"stage": name, "queue": entry.queue if entry else None,
                               "deliveries": entry.deliveries if entry else 0, "wall_s": None}
        outcome = outcome_since_submission(job, record, name) if name not in record.skip else None
        if name in record.skip:
            row["state"] = "skipped"
        elif outcome and outcome.get("status") in FINISHED:
            row.update(state="done", result=outcome["status"], wall_s=outcome.get("wall_s"))
        elif outcome and outcome.get("status") == "failed" or (record.failed or {}).get("stage") == name:
            row.update(state="failed", error=(record.failed or {}).get("reason") or (outcome or {}).get("error", ""))
        elif entry is None:
            row["state"] = "waiting"
        elif entry.started_at is not None:
            row.update(state="running", worker=entry.worker)
        else:
            row["state"] = "queued"
        stages.append(row)
    cancel = cancelled(job.root, record.submitted_at)
    if cancel:
        for row in stages:
            if row["state"] in ("running", "failed") and not record.failed:
                row["state"] = "cancelled"
    states = {row["state"] for row in stages}
    if record.failed or "failed" in states:
        state = "failed"
    elif states <= {"done", "skipped"}:
        state = "done"
    elif cancel:
        state = "cancelled"
    elif "running" in states:
        state = "running"
    else:
        state = "queued"
    status: dict[str, Any] = {"job": job.id, "state": state, "profile": record.profile,
                              "submitted_at": record.submitted_at, "stages": stages, "outputs": []}
    if record.failed:
        status["error"] = record.failed.get("reason", "")
    elif state == "cancelled" and cancel:
        status["error"] = str(cancel.get("reason") or "cancelled")
    manifest = job.artifact_path("subtitles")
    if state == "done" and manifest.is_file():
        status["outputs"] = [str(manifest.parent / f.path) for f in SubtitleManifest.from_json(read_json(manifest)).files]
    return status


def submitted_jobs(jobs_dir: Path) -> list[Job]:
    """Every job under ``jobs_dir`` that has a queue record, oldest submission first."""
    found = [Job(p) for p in sorted(jobs_dir.iterdir()) if (p / "queue.json").is_file()] if jobs_dir.is_dir() else []
    return sorted(found, key=lambda j: (j.root / "queue.json").stat().st_mtime)


def format_status(status: dict[str, Any]) -> str:
    lines = [f"{status['job']}  {status['state']}" + (f"  ({status['error']})" if status.get("error") else "")]
    for row in status["stages"]:
        if row["state"] == "skipped":
            continue
        wall = f"{row['wall_s']:.1f} s" if isinstance(row.get("wall_s"), (int, float)) else ""
        extra = row.get("result") or row.get("worker") or row.get("error") or ""
        deliveries = f"x{row['deliveries']}" if row["deliveries"] > 1 else ""
        lines.append(f"  {row['stage']:<26}{row['state']:<9}{wall:>9}  {deliveries:<4}{extra}")
    lines += [f"  -> {path}" for path in status["outputs"]]
    return "\n".join(lines)
