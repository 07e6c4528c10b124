"""A job's cancel request, ``<job>/cancel.json``: the one thing anyone may write without the job lock.

    request_cancel(job.root, "cancelled by the service (DELETE /jobs)")
    cancelled(job.root, since=record.submitted_at)   # the request, or None

A worker holding the lock cannot be asked to let go of it, so a cancel is a file beside the
record, written atomically by whoever cancels (the service, a person). It applies to the
submission it was made after: a worker skips the job's further stages (``fleet/work.py``), stops
the stage it is running (SIGTERM to the stage process), and enqueues nothing more; a later
submission of the same job (submitted after the request) is not cancelled by it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from shared.fsio import atomic_write_json, read_json

__all__ = ["CANCEL_FILE", "cancelled", "request_cancel"]

CANCEL_FILE = "cancel.json"


def request_cancel(job_root: Path, reason: str) -> dict[str, Any]:
    """Ask the workers to stop the job's current submission; the request written."""
    request = {"at": round(time.time(), 3), "reason": reason}
    atomic_write_json(job_root / CANCEL_FILE, request)
    return request


def cancelled(job_root: Path, since: float) -> dict[str, Any] | None:
    """The cancel request made at or after ``since`` (the submission's time), else None."""
    try:
        request = read_json(job_root / CANCEL_FILE)
    except (OSError, ValueError):
        return None
    if not isinstance(request, dict) or not isinstance(request.get("at"), (int, float)) or request["at"] < since:
        return None
    return request
