"""The queue executor of the service (``SERVICE_EXECUTOR=queue``): jobs run on the Celery workers.

    executor = QueueExecutor(jobs_dir, data_dir, publish, profile="cpu")

``submit`` opens the job and enqueues its ready stages exactly as ``make submit`` does
(host/queue/submit.py), in a thread of its own (hashing a film takes a while); the runner's
flags of the submission become the job's config (stage options), ``--skip`` and ``--until``.
``state`` follows the job folder through host/queue/status.py, polled every ``poll_s``: running,
done, failed with the stage's reason, cancelled. ``cancel`` writes the job's cancel request
(fleet/cancel.py): the workers skip its further stages and stop the running one. The dedupe
and waiter rules are the native executor's (host/service/executor.py): the same job id
submitted while queued or running is one run; the last waiter leaving cancels an unpinned job.

The workers, not the service, run the stages: closing the service leaves its jobs running, and
a restarted service picks them up again from their folders (``state`` adopts a job that has a
queue record).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from pathlib import Path

from fleet.cancel import request_cancel
from fleet.dispatch import Publish
from fleet.record import RECORD_FILE
from host.queue.status import job_status
from host.queue.submit import submit as submit_job
from host.service.executor import CANCELLED, DONE, FAILED, FINAL, QUEUED, RUNNING, JobState, Submission, last_waiter_left
from shared import log as logging_setup
from shared.errors import PipelineError
from shared.job import Job

__all__ = ["QueueExecutor", "queue_executor"]

log = logging_setup.get_logger("host.service")

STATES = {"done": DONE, "failed": FAILED, "cancelled": CANCELLED, "running": RUNNING, "queued": QUEUED}


class QueueExecutor:
    """Jobs handed to the queue's workers; their state read back from the job folders."""

    def __init__(self, jobs_dir: Path, data_dir: Path, publish: Publish, profile: str, poll_s: float = 0.5):
        self.jobs_dir = jobs_dir.absolute()
        self.configs_dir = data_dir / "configs"
        self.publish, self.profile, self.poll_s = publish, profile, poll_s
        self._jobs: dict[str, JobState] = {}
        self._enqueued: set[str] = set()  # submitted to the queue: the monitor follows their folders
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._submissions: queue.Queue[Submission | None] = queue.Queue()
        self._threads = [threading.Thread(target=self._submit_loop, name="queue-submit", daemon=True),
                         threading.Thread(target=self._monitor_loop, name="queue-monitor", daemon=True)]
        for thread in self._threads:
            thread.start()

    # --- the interface -------------------------------------------------------------------

    def submit(self, submission: Submission, *, pin: bool = False, wait: bool = False, again: bool = False) -> JobState:
        with self._lock:
            job = self._jobs.get(submission.job_id) or self._adopt(submission.job_id)
            if job is None or job.state in (FAILED, CANCELLED) or (again and job.state == DONE):
                job = JobState(submission.job_id)
                self._jobs[submission.job_id] = job
                self._enqueued.discard(submission.job_id)
                self._submissions.put(submission)
                log.info("job %s: to the queue", submission.job_id)
            job.pinned |= pin
            job.waiters += 1 if wait else 0
            return job

    def state(self, job_id: str) -> JobState | None:
        with self._lock:
            return self._jobs.get(job_id) or self._adopt(job_id)

    def release(self, job_id: str) -> None:
        if last_waiter_left(self._lock, self._jobs, job_id):
            self.cancel(job_id)

    def cancel(self, job_id: str) -> bool:
        """Ask the workers to stop the job; False if it is not queued or running. The job turns
        ``cancelled`` when its folder says so (the next poll)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state in FINAL:
                return False
            if job_id not in self._enqueued:  # not handed to the queue yet: the submitter skips it
                _finish(job, CANCELLED, "cancelled before it started")
                return True
        request_cancel(self.jobs_dir / job_id, "cancelled through the service")
        log.info("job %s: cancel requested", job_id)
        return True

    def close(self) -> None:
        """Stop following the jobs (they go on running on the workers)."""
        self._stop.set()
        self._submissions.put(None)

    # --- the threads ---------------------------------------------------------------------

    def _submit_loop(self) -> None:
        while (submission := self._submissions.get()) is not None:
            with self._lock:
                job = self._jobs.get(submission.job_id)
                if job is None or job.state != QUEUED or submission.job_id in self._enqueued:
                    continue  # cancelled while it waited here, or already handed over
            try:
                enqueued = self._enqueue(submission)
            except PipelineError as err:
                with self._lock:
                    _finish(job, FAILED, logging_setup.mask_secrets(str(err))[:500])
                log.warning("job %s: not submitted: %s", submission.job_id, job.error)
                continue
            except Exception as err:  # a bug here must not stop the loop
                log.error("job %s: %s: %s", submission.job_id, type(err).__name__, logging_setup.mask_secrets(str(err)))
                with self._lock:
                    _finish(job, FAILED, f"internal error {type(err).__name__}")
                continue
            with self._lock:
                self._enqueued.add(submission.job_id)
                late_cancel = job.state == CANCELLED  # cancelled while it was being submitted
            if late_cancel:
                request_cancel(self.jobs_dir / submission.job_id, "cancelled through the service")
            log.info("job %s: enqueued %s", submission.job_id, ", ".join(enqueued) or "nothing")

    def _enqueue(self, submission: Submission) -> list[str]:
        """host/queue/submit.py with the runner's flags of the submission as config, skips and until."""
        from host.runner import build_parser, stage_options

        args = build_parser().parse_args([str(submission.media), *submission.args])
        config = None
        if options := stage_options(args):
            self.configs_dir.mkdir(parents=True, exist_ok=True)
            config = self.configs_dir / f"{submission.job_id}.json"
            config.write_text(json.dumps(options, indent=1, sort_keys=True))
        _, enqueued = submit_job(submission.media, self.publish, self.profile, jobs_dir=self.jobs_dir,
                                 job_id=submission.job_id, config=config, metadata=args.metadata,
                                 glossary=args.glossary, force=args.force, skip=args.skip, until=args.until)
        return enqueued

    def _monitor_loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            with self._lock:
                following = [self._jobs[j] for j in self._enqueued if self._jobs[j].state not in FINAL]
            for job in following:
                try:
                    status = job_status(Job(self.jobs_dir / job.job_id))
                except (OSError, ValueError) as err:
                    log.warning("job %s: its status is unreadable: %s", job.job_id, err)
                    continue
                if status is not None:
                    with self._lock:
                        _follow(job, status)

    def _adopt(self, job_id: str) -> JobState | None:
        """A job of the queue this service does not know yet (submitted before a restart, or by
        ``make submit``): followed from its folder. Called holding the lock."""
        root = self.jobs_dir / job_id
        if not (root / RECORD_FILE).is_file():
            return None
        try:
            status = job_status(Job(root))
        except (OSError, ValueError):
            return None
        if status is None:
            return None
        job = JobState(job_id, submitted_at=float(status["submitted_at"]))
        _follow(job, status)
        self._jobs[job_id] = job
        self._enqueued.add(job_id)
        return job


def _follow(job: JobState, status: dict) -> None:
    """The job's state from its queue status."""
    state = STATES.get(status["state"], QUEUED)
    if state in FINAL:
        if job.state not in FINAL:
            _finish(job, state, str(status.get("error", "")) if state != DONE else "")
        return
    if state == RUNNING and job.started_at is None:
        job.started_at = time.time()
    job.state = state


def _finish(job: JobState, state: str, error: str) -> None:
    job.state, job.error, job.finished_at = state, error, time.time()
    if job.started_at is None and state != CANCELLED:
        job.started_at = job.submitted_at
    job.done.set()


def queue_executor(jobs_dir: Path, data_dir: Path) -> QueueExecutor:
    """The executor on the broker of the environment (QUEUE_BROKER_URL, QUEUE_PROFILE: shared/options/queue.py)."""
    from fleet.app import make_app, queue_options
    from fleet.dispatch import celery_publisher

    options = queue_options()
    log.info("jobs go to the queue on %s (profile %s)", logging_setup.mask_secrets(options.broker_url), options.profile)
    return QueueExecutor(jobs_dir, data_dir, celery_publisher(make_app(options)), options.profile)
