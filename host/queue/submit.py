"""Submit a job to the queues: open it as every executor does, record the plan, enqueue what is ready."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

from fleet.dispatch import Publish, enqueue_ready
from fleet.record import new_record
from host import lifecycle


def submit(media: Path, publish: Publish, profile: str, *, jobs_dir: Path | None = None, job_id: str | None = None,
           config: Path | None = None, metadata: Path | None = None, glossary: Path | None = None,
           force: list[str] = (), skip: list[str] = ()) -> tuple[str, list[str]]:
    """The job id and the stages enqueued now. Raises PipelineError (bad input, the job in use)."""
    with contextlib.redirect_stdout(sys.stderr):  # open_job names the folder; stdout is for job ids
        run = lifecycle.open_job(media, jobs_dir=jobs_dir, job_id=job_id, config=config, metadata=metadata,
                                 glossary=glossary, force=list(force), skip=list(skip), hold_lock=True)
    try:
        record = new_record(profile, run.order, sorted(run.skip), sorted(run.forced))
        return run.job.id, enqueue_ready(run.job, record, publish)
    finally:
        if run.lock:
            run.lock.release()


def celery_app() -> Any:
    from fleet.app import make_app

    return make_app()
