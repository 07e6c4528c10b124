"""The Celery app: broker, delivery guarantees, and the one task name.

Delivery: a task is acknowledged only after it ran (``acks_late``), a worker takes one task at a
time (prefetch 1, the solo pool: ``fleet.worker``), a task whose worker died is requeued
(``reject_on_worker_lost``; a worker killed outright leaves it unacknowledged in Redis, which
hands it out again after the visibility timeout). No result backend: what a task did is in the
job folder. Publishing retries while Redis is away (a restart), so a finished stage never loses
the stages it enqueues.
"""

from __future__ import annotations

from celery import Celery

from shared.options import resolve
from shared.options.queue import QueueOptions

TASK = "fleet.run_stage"  # args: [job id, stage]


def queue_options() -> QueueOptions:
    """From the environment (defaults < environment)."""
    return resolve(QueueOptions)


def make_app(options: QueueOptions | None = None) -> Celery:
    options = options or queue_options()
    app = Celery("whisperx-pipeline", broker=options.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_transport_options={"visibility_timeout": options.visibility_timeout_s},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_channel_error_retry=True,
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": max(1, options.publish_retry_s), "interval_start": 0,
                                   "interval_step": 1, "interval_max": 1},
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_hijack_root_logger=False,
    )
    return app
