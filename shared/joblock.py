"""One process per job: an exclusive ``flock`` on ``<job>/.lock``.

Whoever works on a job holds the lock for as long as it works: the native
runner for the whole run, a stage started alone (``python -m stages.X --job``)
for its own run. A second one refuses at once, with one line naming the holder
(pid, command, since when) and what to do; it never waits and never shares a
stage's ``.partial/`` folder.

The runner's own stages must not refuse: the runner hands its locked file to
each stage process (``pass_fds``) and names it in ``JOB_LOCK_FD``. ``flock``
belongs to the open file, which the stage then shares, so the stage holds the
same lock, not a second one. The stage checks that the descriptor really is
this job's lock file (device and inode) and falls back to taking the lock
itself when it is not; it never unlocks a lock it was handed. A stage working
under a handed lock asks the kernel for SIGTERM when its executor dies
(Linux ``PR_SET_PDEATHSIG``; it stops as on Ctrl-C: staging removed, no lock),
so a runner killed even by SIGKILL leaves no stage working; and a rerun that
finds the lock held while the holder it names is dead waits up to
``ORPHAN_WAIT_S`` for such stages to let go before it refuses.

A container cannot be handed a descriptor. The container executor holds the
lock on the host for the whole run and gives every stage container the random
``token`` it wrote into the lock file (``JOB_LOCK_TOKEN``): a stage whose token
matches the file's while the lock is held works under its executor's lock and
takes none itself (the executor runs only stages the graph lets run side by
side). A token that does not match, or a lock nobody holds any more, counts for
nothing: the stage takes the lock itself, as when run alone.

The lock file also records the holder (JSON: pid, command, since, token) for
the refusal message; the lock itself is the kernel's, so a holder that dies,
however it dies, releases it.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Any

from shared.errors import JobError

LOCK_NAME = ".lock"
FD_ENV = "JOB_LOCK_FD"  # a descriptor of the job's lock file, held by the process that started this one
TOKEN_ENV = "JOB_LOCK_TOKEN"  # the token the lock's holder wrote into the lock file (containers; see above)
ORPHAN_WAIT_S = 15.0  # how long a new holder waits for the stages of a dead holder to stop
PR_SET_PDEATHSIG = 1


class JobLock:
    """A held job lock (``release`` or process exit lets it go)."""

    def __init__(self, path: Path, fd: int | None, owned: bool):
        self.path = path
        self.token = holder(path).get("token", "") if owned else ""  # for the containers this holder starts
        self.fd = fd  # None: the job folder is read-only, nothing can be written there anyway
        self.owned = owned  # False: handed down by the runner; never unlocked here

    def release(self) -> None:
        if self.fd is None:
            return
        if self.owned:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> JobLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _inherited(path: Path) -> int | None:
    """The descriptor named by ``JOB_LOCK_FD`` if it is this lock file, else None."""
    value = os.environ.get(FD_ENV, "")
    if not value.isdigit():
        return None
    fd = int(value)
    try:
        mine, theirs = os.fstat(fd), os.stat(path)
    except OSError:
        return None
    if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
        return None
    return fd


def _held_by_my_executor(path: Path) -> bool:
    """``JOB_LOCK_TOKEN`` names the token in the lock file, and the lock is held right now."""
    token = os.environ.get(TOKEN_ENV, "")
    if not token or holder(path).get("token") != token:
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True  # held: by the executor that gave us its token
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False  # nobody holds it any more: the executor is gone
    finally:
        os.close(fd)


def holder(path: Path) -> dict[str, Any]:
    """What the lock file says about its holder (empty when unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _current_holder(path: Path, wait_s: float = 1.0) -> dict[str, Any]:
    """The holder's record; a holder that has just taken the lock may not have written it yet
    (the file is empty, or names the last holder, gone): read again for up to ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while True:
        info = holder(path)
        if _alive(info.get("pid")) or time.monotonic() > deadline:
            return info
        time.sleep(0.05)


def _describe(info: dict[str, Any]) -> str:
    pid = info.get("pid")
    if not isinstance(pid, int):
        return "another process"
    command = str(info.get("command") or "?")[:200]
    since = info.get("since")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if isinstance(since, (int, float)) else "?"
    return f"pid {pid} ({command}) since {when}"


def _command() -> str:
    """This process's command line as typed (``python -m stages.demux --job ...``), at most 200 characters."""
    argv = list(getattr(sys, "orig_argv", None) or sys.argv)
    if argv:
        argv[0] = Path(argv[0]).name
    return " ".join(argv)[:200]


def _stop_with_executor(path: Path) -> None:
    """Working under a handed lock: SIGTERM when the executor that handed it dies (Linux). If it
    died before the request was made (this process's parent is no longer the holder), now."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: a killed runner's stages finish their work
        return
    executor = holder(path).get("pid")
    if isinstance(executor, int) and os.getppid() != executor and not _alive(executor):
        os.kill(os.getpid(), signal.SIGTERM)


def _lock_waiting_for_orphans(fd: int, path: Path) -> bool:
    """flock ``fd``; while the holder the file names is dead (its stages still work), wait up to
    ``ORPHAN_WAIT_S`` for them to stop. False: still held."""
    deadline = time.monotonic() + ORPHAN_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if _alive(_current_holder(path, wait_s=0.2).get("pid")) or time.monotonic() > deadline:
                return False
            time.sleep(0.1)


def acquire(job_root: Path, job_id: str | None = None) -> JobLock:
    """Hold the job's lock, or raise JobError naming who holds it."""
    path = job_root / LOCK_NAME
    inherited = _inherited(path)
    if inherited is not None:
        fcntl.flock(inherited, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the same open file: already ours
        _stop_with_executor(path)
        return JobLock(path, os.dup(inherited), owned=False)
    if _held_by_my_executor(path):
        return JobLock(path, None, owned=False)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        writable = True
    except OSError as err:
        if err.errno not in (errno.EACCES, errno.EROFS, errno.EPERM):
            raise
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            writable = False
        except OSError:
            return JobLock(path, None, owned=False)  # a read-only job nobody can have locked
    if not _lock_waiting_for_orphans(fd, path):
        os.close(fd)
        info = _current_holder(path)
        pid = info.get("pid")
        stop = f"stop it (kill {pid}) and rerun" if isinstance(pid, int) else "stop it and rerun"
        raise JobError(f"job {job_id or job_root.name} is in use by {_describe(info)} or the stages it started",
                       f"only one process works on a job at a time: wait for it to finish, or {stop}") from None
    if writable:
        record = {"pid": os.getpid(), "command": _command(), "since": round(time.time(), 3),
                  "token": secrets.token_hex(16)}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
    return JobLock(path, fd, owned=True)
