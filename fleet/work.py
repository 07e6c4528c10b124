"""One delivery of a stage task: the job lock, the stage as a subprocess, the next stages.

    result = run_delivery("movie-1a2b3c4d", "asr", publish)

The worker takes the job's lock (shared/joblock.py) without waiting: when another process holds
it (the job's other stage on another worker, a second delivery of this one, a person running the
stage by hand) the result is ``LOCKED`` and the caller requeues the task for later; it never
fails the job for it. Holding the lock, it runs ``python -m stages.<name> --job <id>`` exactly as
the native runner does (the lock handed down through ``JOB_LOCK_FD``), so freshness, staging and
atomic outputs are the stage's own and a redelivered task finds its work done (``fresh``). A
stage that exits non-zero fails its own job: its reason (from its ``outcome.json``) goes into
the record and nothing more of that job is enqueued. A stage that succeeded enqueues the stages
that became ready, still under the lock. The delivery that ends a job (its last stage done, or
a stage failed) writes the job's ``summary.json`` as the native runner does (shared/summary.py);
``report.html`` is made on the host (``make report JOB=<id>``): its generator, host/report/, is
not in the worker images. A job cancelled since its submission (``fleet/cancel.py``)
runs nothing more: a delivery skips it, and the stage running when the request comes is stopped
(SIGTERM, SIGKILL ``STOP_GRACE_S`` later) and recorded as cancelled, not failed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from fleet.cancel import cancelled
from fleet.dispatch import Publish, enqueue_ready, finished_stages, outcome_since_submission
from fleet.record import QueueRecord, read_record, write_record
from shared import graph, joblock
from shared import log as logging_setup
from shared.errors import JobError
from shared.job import Job
from shared.offline import REPO_ROOT
from shared.summary import FINISHED, summarize, write_summary_file

log = logging_setup.get_logger("fleet")

LOCKED = "locked"  # the job lock is held elsewhere: requeue
DONE = "done"
FAILED = "failed"
LOCK_WAIT_S = 3.0  # how long a delivery waits for the job lock before it is requeued
IGNORED = "ignored"  # not this submission's (a stale task), or its job has already failed
CANCELLED = "cancelled"  # the job was cancelled since its submission: nothing (more) of it runs
CANCEL_POLL_S = 1.0  # how often a running stage's worker looks for a cancel request
STOP_GRACE_S = 10.0  # after SIGTERM to a cancelled stage, SIGKILL follows this much later


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def stage_command(job: Job, stage: str, force: bool) -> list[str]:
    cmd = [sys.executable, "-m", graph.stage(stage).module, "--job", job.id, "--jobs-dir", str(job.root.parent)]
    return [*cmd, "--force"] if force else cmd


def stage_environment(record: QueueRecord, lock_fd: int) -> dict[str, str]:
    """The worker's environment (its stage settings), the job's switched-off stages, the lock's descriptor."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMDB_")}  # job-creation settings, secret
    env.pop(joblock.TOKEN_ENV, None)
    env.update({"SKIP_STAGES": ",".join(sorted(record.skip)), joblock.FD_ENV: str(lock_fd),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))})
    return env


def _failed_status(code: int | None) -> str:
    """The native summary's words: ``failed (2)``, ``killed (SIGKILL)``."""
    if code is not None and code < 0:
        try:
            return f"killed ({signal.Signals(-code).name})"
        except ValueError:
            return f"killed (signal {-code})"
    return f"failed ({code})"


def queue_outcomes(job: Job, record: QueueRecord, failed: str | None = None, code: int | None = None) -> dict[str, dict[str, Any]]:
    """What each stage of the submission did, in the native runner's words (host/lifecycle.py
    ``stage_outcomes``): ``skipped``, the stage's own ``ran``/``fresh`` outcome, ``failed (n)`` or
    ``killed (SIGNAL)`` with its reason for the stage that failed (``failed``, exit ``code``),
    ``not run`` for the rest."""
    outcomes: dict[str, dict[str, Any]] = {}
    for name in record.order:
        if name in record.skip:
            outcomes[name] = {"status": "skipped"}
            continue
        recorded = outcome_since_submission(job, record, name) or {}
        if name == failed:
            outcomes[name] = {"status": _failed_status(code), "error": recorded.get("error") or (record.failed or {}).get("reason", "")}
        elif recorded.get("status") in FINISHED:
            outcomes[name] = recorded
        else:
            outcomes[name] = {"status": "not run"}
    return outcomes


def write_job_summary(job: Job, record: QueueRecord, failed: str | None = None, code: int | None = None) -> None:
    """``<job>/summary.json`` of the submission, under the job lock: the native runner's format
    (``wall_s`` counts from the submission, time spent waiting in the queues included), plus
    ``executor: queue`` and the profile. After a failure it names no outputs (what is there is
    an older run's), as the native runner does. A summary that cannot be written is a warning,
    never a failed job."""
    try:
        summary = summarize(job, record.order, queue_outcomes(job, record, failed, code),
                            time.time() - record.submitted_at)
        summary.update({"executor": "queue", "profile": record.profile})
        if failed is not None:
            summary["outputs"] = {}
            summary["error"] = (record.failed or {}).get("reason", "")
        write_summary_file(job, summary)
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("%s: summary.json not written: %s: %s", job.id, type(err).__name__, err)


def run_stage_process(job: Job, stage: str, record: QueueRecord, lock_fd: int, force: bool) -> int:
    """The stage's exit status; its output goes to ``<job>/logs/<stage>.log`` (appended). A cancel
    request for this submission stops it (SIGTERM, then SIGKILL after STOP_GRACE_S)."""
    logs = job.root / "logs"
    logs.mkdir(exist_ok=True)
    with open(logs / f"{stage}.log", "ab") as out:
        out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {worker_name()} {stage}\n".encode())
        out.flush()
        proc = subprocess.Popen(stage_command(job, stage, force), stdout=out, stderr=subprocess.STDOUT,
                                env=stage_environment(record, lock_fd), cwd=REPO_ROOT, pass_fds=(lock_fd,))
        stop_at: float | None = None
        while True:
            try:
                return proc.wait(CANCEL_POLL_S)
            except subprocess.TimeoutExpired:
                pass
            if stop_at is None and cancelled(job.root, record.submitted_at):
                log.info("%s %s: cancelled; stopping the stage", job.id, stage)
                proc.terminate()
                stop_at = time.monotonic() + STOP_GRACE_S
            elif stop_at is not None and time.monotonic() > stop_at:
                proc.kill()


def _acquire(job: Job) -> joblock.JobLock | None:
    """The job lock, waiting up to LOCK_WAIT_S (a submitter or a finishing stage holds it for the
    moment it takes to publish); None when another process still holds it."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            return joblock.acquire(job.root, job.id)
        except JobError as err:
            if time.monotonic() > deadline:
                log.info("%s: %s; requeued", job.id, err)
                return None
        time.sleep(0.2)


def run_delivery(job_id: str, stage: str, publish: Publish, jobs_dir: Path | None = None) -> str:
    """Run one delivery of ``(job_id, stage)``; LOCKED, DONE, FAILED, CANCELLED or IGNORED."""
    graph.stage(stage)
    job = Job.open(job_id, jobs_dir)
    lock = _acquire(job)
    if lock is None:
        return LOCKED
    with lock:
        if lock.fd is None:
            raise JobError(f"job folder {job.root} is not writable by this worker",
                           "mount the jobs volume read-write for the workers (docs/SCALE.md)")
        record = read_record(job.root)
        if record is None or stage not in record.stages:
            log.warning("%s %s: not enqueued by the job's current submission; ignored", job_id, stage)
            return IGNORED
        if record.failed:
            log.info("%s %s: the job failed at %s; ignored", job_id, stage, record.failed.get("stage"))
            return IGNORED
        if cancelled(job.root, record.submitted_at):
            log.info("%s %s: the job was cancelled; skipped", job_id, stage)
            return CANCELLED
        entry = record.stages[stage]
        entry.started_at, entry.worker, entry.exit_code = round(time.time(), 3), worker_name(), None
        entry.deliveries += 1
        write_record(job.root, record)
        force = stage in record.forced and outcome_since_submission(job, record, stage) is None
        log.info("%s %s: running (delivery %d)", job_id, stage, entry.deliveries)
        code = run_stage_process(job, stage, record, lock.fd, force)
        entry.exit_code = code
        if cancelled(job.root, record.submitted_at):
            write_record(job.root, record)
            log.info("%s %s: cancelled (exit %s); nothing more of the job runs", job_id, stage, code)
            return CANCELLED
        if code != 0:
            outcome = outcome_since_submission(job, record, stage) or {}
            reason = outcome.get("error") or f"{stage}: {_describe_exit(code)} (its log: {job.root / 'logs' / stage}.log)"
            record.failed = {"stage": stage, "reason": str(reason)}
            write_record(job.root, record)
            write_job_summary(job, record, stage, code)
            log.warning("%s %s: failed: %s", job_id, stage, reason)
            return FAILED
        write_record(job.root, record)
        names = enqueue_ready(job, record, publish)
        if not names and set(record.to_run) <= finished_stages(job, record):
            write_job_summary(job, record)
        log.info("%s %s: done; enqueued %s", job_id, stage, ", ".join(names) or "nothing")
        return DONE
