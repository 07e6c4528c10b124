"""What is ready, enqueued: the runner's readiness rule (``graph.ready``) over the job folder.

A stage is done for this submission when its ``outcome.json``, written after the submission,
says ran or fresh; a stage is started once it has been enqueued (the record). Called by the
submitter and by the worker that finished a stage, each while holding the job lock, so two
finishing stages never enqueue the same one twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fleet.cancel import cancelled
from fleet.queues import queue_of
from fleet.record import QueueRecord, StageRecord, write_record
from shared import graph
from shared.job import Job
from shared.lock import read_outcome

FINISHED = ("ran", "fresh")

Publish = Callable[[str, str, str], None]  # (job id, stage, queue)


def outcome_since_submission(job: Job, record: QueueRecord, stage: str) -> dict[str, Any] | None:
    return read_outcome(job.stage_dir(stage), since=record.submitted_at)


def finished_stages(job: Job, record: QueueRecord) -> set[str]:
    """The stages done in this submission; switched-off ones count as done."""
    done = set(record.skip)
    for name in record.to_run:
        outcome = outcome_since_submission(job, record, name)
        if outcome and outcome.get("status") in FINISHED:
            done.add(name)
    return done


def enqueue_ready(job: Job, record: QueueRecord, publish: Publish) -> list[str]:
    """Enqueue the stages that became ready and record them; the names, graph order. Nothing
    after a failure (as the native runner starts nothing new after one), nor once the job was
    cancelled (fleet/cancel.py)."""
    if record.failed or cancelled(job.root, record.submitted_at):
        return []
    names = graph.ready(record.order, finished_stages(job, record), started=set(record.stages))
    for name in names:
        queue = queue_of(name, record.profile)
        publish(job.id, name, queue)  # first: a crash before the record is written enqueues it again, harmlessly
        record.stages[name] = StageRecord(queue, round(time.time(), 3))
        write_record(job.root, record)
    return names


def celery_publisher(app: Any) -> Publish:
    from fleet.app import TASK

    def publish(job_id: str, stage: str, queue: str) -> None:
        app.send_task(TASK, args=[job_id, stage], queue=queue)

    return publish
