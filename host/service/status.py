"""A job folder read back for clients: every stage's status and timings, the outputs.

Nothing here writes: the stages' own records (``outcome.json``, ``lock.json``,
``.partial/`` while one works) and the runner's ``summary.json`` say it all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fleet.cancel import cancelled
from fleet.record import read_record
from shared import graph
from shared.fsio import read_json
from shared.lock import STAGING_DIR, read_lock, read_outcome
from shared.schema import SubtitleFile, SubtitleManifest

__all__ = ["job_files", "job_status", "resolve_file", "subtitle_file"]

DONE_STATUSES = ("ran", "fresh", "skipped")


def job_status(root: Path, since: float = 0.0) -> dict[str, Any]:
    """Each stage of the job at ``root``: status (pending, running, ran, fresh, failed, skipped,
    not run), wall and peak memory from its lock, its error; ``progress``: the share of
    the run's stages that are done. ``since``: when the current run started (older outcomes
    are an earlier run's)."""
    summary_path = root / "summary.json"
    summary = read_json(summary_path) if summary_path.is_file() else None
    if summary is not None and summary_path.stat().st_mtime < since:
        summary = None  # an earlier run's
    from_summary = {s["stage"]: s["status"] for s in (summary or {}).get("stages", [])}
    if summary is None:
        from_summary = _from_queue_record(root)
    stages = []
    for spec in graph.topological_order():
        folder = root / spec.name
        outcome = read_outcome(folder, since=since) or {}
        status = from_summary.get(spec.name) or outcome.get("status")
        if status is None and summary is not None:
            status = "not run"  # past the run's --until
        if status is None:
            status = "running" if (folder / STAGING_DIR).is_dir() else "pending"
        lock = read_lock(folder) if status in ("ran", "fresh") else None
        stages.append({"stage": spec.name, "status": status,
                       "wall_s": lock.timings.get("wall_s") if lock else None,
                       "peak_rss_mb": lock.timings.get("peak_rss_mb") if lock else None,
                       "error": outcome.get("error", "") if status.startswith("failed") else ""})
    counted = [s for s in stages if s["status"] not in ("skipped", "not run")]
    done = sum(s["status"] in DONE_STATUSES for s in counted)
    return {"stages": stages, "progress": round(done / len(counted), 3) if counted else 0.0,
            "summary": _public_summary(summary, root) if summary else None}


def _from_queue_record(root: Path) -> dict[str, str]:
    """A job on the queue has no summary: its record says which stages are switched off, which
    are past the submission's ``--until`` (fleet/record.py), and, once the job was cancelled
    (fleet/cancel.py), which stage the cancel stopped (started, no clean exit)."""
    record = read_record(root)
    if record is None:
        return {}
    found = {spec.name: "skipped" if spec.name in record.skip else "not run"
             for spec in graph.topological_order() if spec.name in record.skip or spec.name not in record.order}
    if not record.failed and cancelled(root, record.submitted_at):
        found.update({name: "cancelled" for name, entry in record.stages.items()
                      if entry.started_at is not None and entry.exit_code != 0})
    return found


def _public_summary(summary: dict[str, Any], root: Path) -> dict[str, Any]:
    """The runner's summary with paths made relative to the job folder (clients fetch them by name)."""
    def rel(path: str) -> str:
        try:
            return Path(path).relative_to(root).as_posix()
        except ValueError:
            return Path(path).name
    outputs = {kind: [rel(p) for p in paths] if isinstance(paths, list) else rel(paths)
               for kind, paths in summary.get("outputs", {}).items()}
    return {"wall_s": summary.get("wall_s"), "duration_s": summary.get("duration_s"), "cues": summary.get("cues"),
            "qc_issues": summary.get("qc_issues"), "outputs": outputs}


def subtitle_file(root: Path, fmt: str) -> tuple[Path, SubtitleFile] | None:
    """The job's subtitle file in ``fmt``: the transcript's first, else the first translation's."""
    manifest_path = root / "subtitles" / "manifest.json"
    if not manifest_path.is_file():
        return None
    files = SubtitleManifest.from_json(read_json(manifest_path)).for_format(fmt)
    files.sort(key=lambda f: f.kind != "transcript")
    return (root / "subtitles" / files[0].path, files[0]) if files else None


def job_files(root: Path) -> list[str]:
    """Every output a client may fetch: the stages' published files (not their records, not staging)."""
    names = []
    for spec in graph.topological_order():
        folder = root / spec.name
        if folder.is_dir():
            names += [p.relative_to(root).as_posix() for p in sorted(folder.rglob("*"))
                      if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    return names + [n for n in ("summary.json",) if (root / n).is_file()]


def resolve_file(root: Path, name: str) -> Path | None:
    """``name`` if it is one of the job's outputs (:func:`job_files`: not job.json, not a lock),
    else None: no ``..``, no hidden part, no symbolic link out of the folder."""
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or any(p in ("..", "") or p.startswith(".") for p in parts):
        return None
    if name not in job_files(root):
        return None
    path = (root / name).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        return None
    return path
