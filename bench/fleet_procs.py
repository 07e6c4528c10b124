"""Real processes for the queue's tests and benchmark: Debian's redis-server on a free loopback
port, and Celery workers (``python -m fleet.worker``) each in its own session, so a test can
SIGKILL a worker together with the stage it runs, as when a machine dies."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


class NoRedis(RuntimeError):
    """redis-server is not installed."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """redis-server with append-only persistence (fsync on every write) in ``folder``."""

    def __init__(self, folder: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            raise NoRedis("redis-server is not installed (apt-get install redis-server; make setup installs it)")
        self.binary, self.folder, self.port = binary, folder, free_port()
        self.process: subprocess.Popen | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 - the server's own log, closed with it
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not _answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not start: {(self.folder / 'redis.log').read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: redis flushes the append-only file and exits
            self.process.wait(timeout=30)
        self.process = None

    def restart(self, down_s: float = 2.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


class Worker:
    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "fleet.worker", *args], cwd=REPO_ROOT, env=env,
                                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the worker and the stage it runs (its session), as when its machine dies."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)


def queue_env(redis: RedisServer, jobs_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of the workers and the submitter: no stage setting of the caller's, the
    broker, the jobs folder."""
    prefixes = ("ASR_", "VAD_", "SUBTITLE_", "MUX_", "DEMUX_", "TMDB_", "QUEUE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update({"PYTHONPATH": str(REPO_ROOT), "LOG_FORMAT": "human", "JOBS_DIR": str(jobs_dir),
                "QUEUE_BROKER_URL": redis.url, **extra})
    return env
