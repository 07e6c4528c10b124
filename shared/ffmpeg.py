"""ffmpeg and ffprobe, run the one way every stage runs them: argv lists
(never a shell), no stdin, and a one-line StageFailed carrying ffmpeg's last
error line. Two shapes: :func:`run_ffmpeg` writes files and reports progress
from ``-progress pipe:1`` through the hook; :func:`ffmpeg_stdout` hands the
caller ffmpeg's standard output to read as it comes (raw samples, filter
marks), and :func:`ffmpeg_output` all of it at once."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from shared.errors import StageFailed
from shared.progress import ProgressHook, no_progress

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
MISSING_HINT = "install ffmpeg (make system-deps)"
_TIME = re.compile(r"^(\d+):(\d+):(\d+(?:\.\d+)?)$")


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@lru_cache(maxsize=1)
def ffmpeg_version() -> str:
    """``5.1.6-0+deb12u1``: recorded in locks, since it changes decoded output."""
    try:
        out = subprocess.run([FFMPEG, "-hide_banner", "-version"], stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=30).stdout
    except FileNotFoundError:
        raise StageFailed("ffmpeg is not installed or not on PATH", MISSING_HINT) from None
    first = out.splitlines()[0] if out else ""
    return first.split(" ")[2] if first.startswith("ffmpeg version ") else first


def progress_seconds(key: str, value: str) -> float | None:
    """Seconds written so far from one ``-progress`` line, if it states them."""
    if key in ("out_time_us", "out_time_ms"):  # both are microseconds in ffmpeg
        try:
            return max(0.0, int(value) / 1e6)
        except ValueError:
            return None
    if key == "out_time":
        match = _TIME.match(value.strip().lstrip("-"))
        if match:
            h, m, s = match.groups()
            return int(h) * 3600 + int(m) * 60 + float(s)
    return None


def run_ffmpeg(args: list[str], duration_s: float | None, hook: ProgressHook = no_progress,
               step: str = "ffmpeg", what: str = "ffmpeg", hint: str = "check the input file; rerun to retry") -> None:
    """Run ``ffmpeg <args>``, reporting seconds written against ``duration_s``."""
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-nostats", "-progress", "pipe:1", *args]
    total = duration_s if duration_s and duration_s > 0 else None
    done = 0.0
    with tempfile.TemporaryFile() as stderr:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        except FileNotFoundError:
            raise StageFailed("ffmpeg is not installed or not on PATH", MISSING_HINT) from None
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                key, _, value = raw.decode("ascii", "replace").strip().partition("=")
                seconds = progress_seconds(key, value)
                if seconds is not None:
                    seconds = min(seconds, total) if total else seconds
                    if seconds > done:
                        done = seconds
                        hook(step, done, total)
            returncode = proc.wait()
        finally:
            if proc.poll() is None:  # interrupted: do not leave ffmpeg writing
                proc.kill()
                proc.wait()
        if returncode != 0:
            stderr.seek(0)
            last = _last_line(stderr.read().decode("utf-8", "replace")) or f"exit status {returncode}"
            raise StageFailed(f"{what} failed: {last}", hint)
    if total and done < total:
        hook(step, total, total)


def ffmpeg_command(args: list[str]) -> list[str]:
    """The full argv of a quiet ffmpeg run of ``args``: no stdin, no banner, errors only, no stats."""
    return [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-nostats", *args]


@contextmanager
def ffmpeg_stdout(args: list[str], what: str, hint: str, text: bool = False) -> Iterator[IO[Any]]:
    """ffmpeg's standard output as a stream (bytes, or lines of text with ``text``), read in the block.

    When the block ends, ffmpeg is waited for and a non-zero exit raises StageFailed
    ``"<what> failed: <ffmpeg's last error line>"`` with ``hint`` (what the block left
    unread is read first); when the block raises, ffmpeg is killed, never left writing.
    Its standard error goes to a temporary file, so a chatty ffmpeg cannot fill a pipe
    nobody reads and stall.
    """
    with tempfile.TemporaryFile() as stderr:
        try:
            proc = subprocess.Popen(ffmpeg_command(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr,
                                    text=text, errors="replace" if text else None)
        except FileNotFoundError:
            raise StageFailed("ffmpeg is not installed or not on PATH", MISSING_HINT) from None
        assert proc.stdout is not None
        try:
            yield proc.stdout
            proc.stdout.read()  # the rest, unread by the block: ffmpeg must not block on a full pipe
            returncode = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if returncode != 0:
            stderr.seek(0)
            last = _last_line(stderr.read().decode("utf-8", "replace")) or f"exit status {returncode}"
            raise StageFailed(f"{what} failed: {last}", hint)


def ffmpeg_output(args: list[str], what: str, hint: str) -> bytes:
    """All of ffmpeg's standard output (for short outputs: a ``-t``-bounded decode); failures as in ffmpeg_stdout."""
    with ffmpeg_stdout(args, what, hint) as out:
        return out.read()


def ffprobe(path: Path, *show: str, timeout_s: float = 300) -> tuple[int, dict[str, Any], str]:
    """``ffprobe -show_<show...>`` as (exit status, parsed JSON or {}, last stderr line)."""
    path = path.absolute()  # never starts with "-" or looks like a protocol ("http:")
    cmd = [FFPROBE, "-v", "error", "-hide_banner", "-print_format", "json", *(f"-show_{s}" for s in show), str(path)]
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s)
    except FileNotFoundError:
        raise StageFailed("ffprobe is not installed or not on PATH", MISSING_HINT) from None
    except subprocess.TimeoutExpired:
        raise StageFailed(f"ffprobe did not finish reading {path.name} within {timeout_s:.0f} s",
                          "check that the file is on a readable, responsive disk") from None
    try:
        data = json.loads(proc.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError:
        data = {}
    return proc.returncode, data, _last_line(proc.stderr.decode("utf-8", "replace")).replace(f"{path}: ", "")
