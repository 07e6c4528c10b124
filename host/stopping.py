"""Stopping a run cleanly: stage processes in their own process groups, signals forwarded.

The native runner starts each stage in a process group of its own, so that a
stage and everything it started (ffmpeg, a worker pool) can be signalled as
one, and a terminal's Ctrl-C reaches the runner first. On SIGTERM or SIGINT the
runner starts no new stage, forwards the signal to every running stage's group,
waits up to :data:`GRACE_S` for them to clean up (a stage removes its
``.partial/`` and records why it stopped), then kills what is left with
SIGKILL. It never leaves an orphan behind, and it exits ``128 + n`` like a shell.

A stage that dies of a signal it did not get from the runner (the kernel's
out-of-memory killer sends SIGKILL) is reported as such: "asr was killed by
SIGKILL — out of memory?". Standard library only, like everything the host runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["GRACE_S", "STOP_SIGNALS", "ProcessGroups", "SignalLatch", "Stopped", "exit_status", "killed_reason", "signal_name",
           "signal_of"]

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
GRACE_S = 10.0  # how long stopped stages get to clean up before SIGKILL


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def signal_of(code: int | None) -> int | None:
    """The signal that ended a process with exit status ``code`` (subprocess's ``-n``), else None."""
    return -code if isinstance(code, int) and code < 0 else None


def exit_status(code: int) -> int:
    """A process's status as a shell reports it: ``128 + n`` for one killed by signal ``n``."""
    return 128 - code if code < 0 else code


def killed_reason(stage: str, signum: int) -> str:
    """The one line for a stage killed by a signal nobody in the pipeline sent."""
    hint = " — out of memory? (give it more memory, or a smaller model)" if signum == signal.SIGKILL else ""
    return f"{stage} was killed by {signal_name(signum)}{hint}"


class ProcessGroups:
    """The stage processes running now, each the leader of its own process group, and the
    signal that asked the run to stop (None while none did)."""

    def __init__(self, grace_s: float = GRACE_S) -> None:
        self.grace_s = grace_s
        self.signum: int | None = None
        self.stopped_at: float | None = None
        self._running: dict[int, subprocess.Popen] = {}
        self._lock = threading.RLock()

    @property
    def stopping(self) -> bool:
        return self.signum is not None

    def run(self, cmd: list[str], **popen: Any) -> int | None:
        """Run ``cmd`` in a new process group until it ends; its exit status (``-n`` if a signal
        ended it), or None when the run was stopped before it could start."""
        with self._lock:
            if self.stopping:
                return None
            proc = subprocess.Popen(cmd, process_group=0, **popen)
            self._running[proc.pid] = proc
        try:
            return proc.wait()
        finally:
            with self._lock:
                self._running.pop(proc.pid, None)
            self._signal_group(proc.pid, signal.SIGKILL)  # whatever the stage left behind in its group

    def pids(self) -> list[int]:
        with self._lock:
            return list(self._running)

    def _signal_group(self, pgid: int, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signum)

    def stop(self, signum: int) -> None:
        """Ask every running stage to stop (the signal to its whole group); start none from now."""
        with self._lock:
            if self.signum is None:
                self.signum, self.stopped_at = signum, time.monotonic()
            for pgid in self._running:
                self._signal_group(pgid, signum)

    def escalate(self) -> bool:
        """SIGKILL every group still running once the grace period is over; True if it did."""
        if self.stopped_at is None or time.monotonic() - self.stopped_at < self.grace_s:
            return False
        with self._lock:
            for pgid in self._running:
                self._signal_group(pgid, signal.SIGKILL)
            return bool(self._running)

    @contextlib.contextmanager
    def forwarding(self) -> Iterator[ProcessGroups]:
        """SIGTERM and SIGINT, while inside, stop the run (:meth:`stop`) instead of killing this
        process; the previous handlers are back afterwards. Main thread only (Python's rule)."""
        previous = {s: signal.signal(s, lambda signum, frame: self.stop(signum)) for s in STOP_SIGNALS}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


class Stopped(BaseException):
    """A stop signal arrived while a command was being waited for (:class:`SignalLatch`).
    A BaseException, like KeyboardInterrupt, so no ``except Exception`` swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


class SignalLatch:
    """For an executor that waits on one command (``docker compose up``): remembers the first
    SIGTERM/SIGINT, and raises :class:`Stopped` only while :meth:`raising` (the wait), so the
    cleanup after it (containers stopped, logs saved, the job lock released last) runs to its
    end whatever arrives meanwhile."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._armed = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
        if self._armed:
            self._armed = False
            raise Stopped(signum)

    @contextlib.contextmanager
    def installed(self) -> Iterator[SignalLatch]:
        """The handlers in place while inside (main thread only; elsewhere nothing changes)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {s: signal.signal(s, self._handle) for s in STOP_SIGNALS}
        try:
            yield self
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    @contextlib.contextmanager
    def raising(self) -> Iterator[None]:
        """A signal inside (or one that came before) raises :class:`Stopped` here."""
        if self.signum is not None:
            raise Stopped(self.signum)
        self._armed = True
        try:
            yield
        finally:
            self._armed = False
