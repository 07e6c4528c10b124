"""Where the service's jobs run: a small interface, and the native executor.

An executor takes a :class:`Submission` (the media, the job id, the runner's
flags) and runs it; the service asks it for a job's state, waits on it, and
cancels it. :class:`NativeExecutor` runs ``python -m host.runner`` as a process
group of its own, at most ``max_running`` at once, the rest queued in order. A
queue (Celery, issue #12) plugs in by implementing the same four methods.

The same job id submitted twice while it is queued or running is one run: both
callers wait on it. A job is cancelled when a caller asks (``DELETE``), or when
the last caller that only waits for its result goes away and nobody pinned it
(a ``POST /jobs`` pins: its client comes back for the files later).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from shared import log as logging_setup
from shared.offline import REPO_ROOT

if TYPE_CHECKING:
    from host.service.options import ServiceOptions

__all__ = ["Executor", "JobState", "NativeExecutor", "Submission", "make_executor"]

log = logging_setup.get_logger("host.service")

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINAL = (DONE, FAILED, CANCELLED)
STOP_GRACE_S = 10.0  # after SIGTERM to the runner's group, SIGKILL follows this much later
HIDDEN_ENV = ("API_TOKEN",)  # the service's own secret never reaches the runner or a stage


@dataclass(frozen=True)
class Submission:
    job_id: str
    media: Path
    args: tuple[str, ...]  # the runner's flags (JobRequest.runner_args, --metadata, --glossary)


@dataclass
class JobState:
    """What the executor knows of a job it was given (since the service started)."""

    job_id: str
    state: str = QUEUED
    exit_code: int | None = None
    error: str = ""  # the runner's one-line reason when it failed
    submitted_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    waiters: int = 0  # callers waiting for the result only (/asr)
    pinned: bool = False  # asked for as a job (/jobs, the watch folder): never cancelled by a leaving waiter
    log_path: Path | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def public(self) -> dict[str, object]:
        return {"state": self.state, "exit_code": self.exit_code, "error": self.error,
                "submitted_at": self.submitted_at, "started_at": self.started_at, "finished_at": self.finished_at}


class Executor(Protocol):
    def submit(self, submission: Submission, *, pin: bool = False, wait: bool = False, again: bool = False) -> JobState: ...
    def state(self, job_id: str) -> JobState | None: ...
    def release(self, job_id: str) -> None: ...
    def cancel(self, job_id: str) -> bool: ...
    def close(self) -> None: ...


def last_waiter_left(lock: threading.Lock, jobs: dict[str, JobState], job_id: str) -> bool:
    """One caller of ``job_id`` left: True when nobody else waits for it, nobody pinned it and it
    has not ended (every executor then cancels it)."""
    with lock:
        job = jobs.get(job_id)
        if job is None:
            return False
        job.waiters = max(0, job.waiters - 1)
        orphan = job.waiters == 0 and not job.pinned and job.state not in FINAL
    if orphan:
        log.info("job %s: its last client left; cancelled", job_id)
    return orphan


class NativeExecutor:
    """``python -m host.runner`` per job, ``max_running`` at once, a FIFO queue for the rest."""

    def __init__(self, jobs_dir: Path, logs_dir: Path, max_running: int = 1, environ: dict[str, str] | None = None):
        self.jobs_dir = jobs_dir.absolute()
        self.logs_dir = logs_dir
        self.environ = dict(os.environ if environ is None else environ)
        self._jobs: dict[str, JobState] = {}
        self._procs: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[Submission | None] = queue.Queue()
        self._workers = [threading.Thread(target=self._work, name=f"executor-{i}", daemon=True)
                         for i in range(max(1, max_running))]
        for worker in self._workers:
            worker.start()

    # --- the interface -------------------------------------------------------------------

    def submit(self, submission: Submission, *, pin: bool = False, wait: bool = False, again: bool = False) -> JobState:
        """Queue the job unless it is queued, running or done already (``again``: run a done one
        again); ``wait``: the caller waits for the result (counted, see :meth:`release`);
        ``pin``: keep it running whoever leaves."""
        with self._lock:
            job = self._jobs.get(submission.job_id)
            if job is None or job.state in (FAILED, CANCELLED) or (again and job.state == DONE):
                job = JobState(submission.job_id)
                self._jobs[submission.job_id] = job
                self._queue.put(submission)
                log.info("job %s queued", submission.job_id)
            job.pinned |= pin
            job.waiters += 1 if wait else 0
            return job

    def state(self, job_id: str) -> JobState | None:
        with self._lock:
            return self._jobs.get(job_id)

    def release(self, job_id: str) -> None:
        """A waiting caller left (its client disconnected): the job is cancelled when nobody
        else waits for it and nobody pinned it."""
        if last_waiter_left(self._lock, self._jobs, job_id):
            self.cancel(job_id)

    def cancel(self, job_id: str) -> bool:
        """Stop a queued or running job (the runner's whole process group). False if it was not."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state in FINAL:
                return False
            proc = self._procs.get(job_id)
            if proc is None:  # still queued: the worker skips it
                self._finish(job, CANCELLED, None, "cancelled before it started")
                return True
            job.state = CANCELLED
        _stop_group(proc)
        return True

    def close(self) -> None:
        """Stop every running job and the workers (the service shuts down)."""
        with self._lock:
            running = [job_id for job_id, job in self._jobs.items() if job.state not in FINAL]
        for job_id in running:
            self.cancel(job_id)
        for _ in self._workers:
            self._queue.put(None)

    # --- the workers ---------------------------------------------------------------------

    def _work(self) -> None:
        while (submission := self._queue.get()) is not None:
            try:
                self._run(submission)
            except Exception as err:  # a bug here must not kill the worker
                log.error("job %s: %s: %s", submission.job_id, type(err).__name__, logging_setup.mask_secrets(str(err)))
                with self._lock:
                    self._finish(self._jobs[submission.job_id], FAILED, None, f"internal error {type(err).__name__}")

    def _run(self, submission: Submission) -> None:
        with self._lock:
            job = self._jobs[submission.job_id]
            if job.state != QUEUED:
                return
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            job.log_path = self.logs_dir / f"{submission.job_id}.log"
            cmd = [sys.executable, "-m", "host.runner", "--jobs-dir", str(self.jobs_dir), "--job-id", submission.job_id,
                   *submission.args, "--", str(submission.media)]
            env = {k: v for k, v in self.environ.items() if k not in HIDDEN_ENV}
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
            with open(job.log_path, "ab") as out:
                proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True)
            self._procs[submission.job_id] = proc
            job.state, job.started_at = RUNNING, time.time()
        log.info("job %s started (runner pid %d)", submission.job_id, proc.pid)
        code = proc.wait()
        with self._lock:
            self._procs.pop(submission.job_id, None)
            if job.state == CANCELLED:
                self._finish(job, CANCELLED, code, "cancelled")
            elif code == 0:
                self._finish(job, DONE, code, "")
            else:
                self._finish(job, FAILED, code, _last_error(job.log_path))
        log.info("job %s %s (exit %s)", submission.job_id, job.state, code)

    @staticmethod
    def _finish(job: JobState, state: str, code: int | None, error: str) -> None:
        job.state, job.exit_code, job.error, job.finished_at = state, code, error, time.time()
        job.done.set()


def make_executor(options: ServiceOptions, jobs_dir: Path, data_dir: Path) -> Executor:
    """SERVICE_EXECUTOR: the native runner beside the service, or the queue's workers
    (host/service/queue_executor.py, imported only then: it needs celery)."""
    if options.executor == "queue":
        from host.service.queue_executor import queue_executor

        return queue_executor(jobs_dir, data_dir)
    return NativeExecutor(jobs_dir, data_dir / "logs", options.max_running_jobs)


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the runner's process group (its stages too), SIGKILL after STOP_GRACE_S."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return

    def kill_later() -> None:
        try:
            proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    threading.Thread(target=kill_later, daemon=True).start()


def _last_error(log_path: Path | None) -> str:
    """The runner's ``error: ...`` lines (its one-line reason and the hint under it)."""
    if log_path is None or not log_path.is_file():
        return "the runner failed"
    lines = log_path.read_text(errors="replace").splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("error: "):
            reason = " ".join(line.strip() for line in lines[i:i + 2] if line.strip())
            return logging_setup.mask_secrets(reason.removeprefix("error: "))[:500]
    return "the runner failed (see its log)"
