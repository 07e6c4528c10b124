"""The task a worker runs: one delivery of ``(job id, stage)`` (fleet/work.py), requeued while
the job is locked elsewhere."""

from __future__ import annotations

from fleet.app import TASK, make_app, queue_options
from fleet.dispatch import celery_publisher
from fleet.work import LOCKED, run_delivery

options = queue_options()
app = make_app(options)


@app.task(name=TASK, bind=True, max_retries=None)
def run_stage(self, job_id: str, stage: str) -> str:
    result = run_delivery(job_id, stage, celery_publisher(app))
    if result == LOCKED:
        raise self.retry(countdown=options.lock_retry_s)
    return result
