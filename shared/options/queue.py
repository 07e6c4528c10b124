"""Options of the queue executor (fleet/ on the workers, host/queue on the submitting side)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class QueueOptions:
    """Celery on Redis (docs/SCALE.md). The visibility timeout is how long a delivered task may
    stay unacknowledged before Redis hands it to another worker: it must be longer than the
    longest stage (6 h covers a feature film on CPU; a second delivery of a stage still running
    waits for the job lock and then finds the stage fresh, it never runs beside it). A worker
    that finds the job lock held by another process requeues the task ``lock_retry_s`` later.
    A publish (submit, or a finished stage enqueueing the next ones) keeps trying for
    ``publish_retry_s`` while Redis is unreachable (a restart)."""

    broker_url: str = setting("redis://localhost:6379/0", "QUEUE_BROKER_URL",
                              "Redis URL of the queue executor's broker (every worker and make submit use it)")
    profile: str = setting("cpu", "QUEUE_PROFILE",
                           "queues of the stages that use a GPU when there is one: cpu (asr.cpu, ...) or gpu (asr.gpu, ...)",
                           ("cpu", "gpu"))
    visibility_timeout_s: int = setting(21600, "QUEUE_VISIBILITY_TIMEOUT_S",
                                        "seconds a delivered task may run unacknowledged before Redis redelivers it; "
                                        "longer than the longest stage")
    lock_retry_s: float = setting(10.0, "QUEUE_LOCK_RETRY_S",
                                  "seconds before a task whose job is locked by another process is tried again")
    publish_retry_s: int = setting(120, "QUEUE_PUBLISH_RETRY_S",
                                   "seconds an enqueue keeps retrying while Redis is unreachable")
