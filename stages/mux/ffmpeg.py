"""ffmpeg with progress through the hook, and ffprobe of the result.

(The demux stage has its own: stages never import each other.)"""

from __future__ import annotations

import json
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from shared.errors import StageFailed
from shared.progress import ProgressHook, no_progress

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
_MISSING = ("is not installed or not on PATH", "install ffmpeg (make system-deps)")


@lru_cache(maxsize=1)
def ffmpeg_version() -> str:
    try:
        out = subprocess.run([FFMPEG, "-hide_banner", "-version"], stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=30).stdout
    except FileNotFoundError:
        raise StageFailed(f"ffmpeg {_MISSING[0]}", _MISSING[1]) from None
    first = out.splitlines()[0] if out else ""
    return first.split(" ")[2] if first.startswith("ffmpeg version ") else first


def _progress_seconds(key: str, value: str) -> float | None:
    if key == "out_time_us":
        try:
            return max(0.0, int(value) / 1e6)
        except ValueError:
            return None
    return None


def run_ffmpeg(args: list[str], duration_s: float | None, hook: ProgressHook = no_progress,
               step: str = "muxing", what: str = "ffmpeg") -> None:
    """Run ``ffmpeg <args>`` with ``-progress``; StageFailed with ffmpeg's last error line."""
    cmd = [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-nostats", "-progress", "pipe:1", *args]
    total = duration_s if duration_s and duration_s > 0 else None
    done = 0.0
    with tempfile.TemporaryFile() as stderr:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        except FileNotFoundError:
            raise StageFailed(f"ffmpeg {_MISSING[0]}", _MISSING[1]) from None
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                key, _, value = raw.decode("ascii", "replace").strip().partition("=")
                seconds = _progress_seconds(key, value)
                if seconds is not None:
                    seconds = min(seconds, total) if total else seconds
                    if seconds > done:
                        done = seconds
                        hook(step, done, total)
            returncode = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if returncode != 0:
            stderr.seek(0)
            lines = [ln.strip() for ln in stderr.read().decode("utf-8", "replace").splitlines() if ln.strip()]
            raise StageFailed(f"{what} failed: {lines[-1] if lines else f'exit status {returncode}'}",
                              "check the input and subtitle files; rerun to retry")
    if total and done < total:
        hook(step, total, total)


def probe_streams(path: Path) -> list[dict[str, Any]]:
    """ffprobe's streams of ``path`` (codec_type, codec_name, tags, ...)."""
    cmd = [FFPROBE, "-v", "error", "-hide_banner", "-print_format", "json", "-show_streams", str(path.absolute())]
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    except FileNotFoundError:
        raise StageFailed(f"ffprobe {_MISSING[0]}", _MISSING[1]) from None
    except subprocess.TimeoutExpired:
        raise StageFailed(f"ffprobe did not finish reading {path.name}") from None
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise StageFailed(f"ffmpeg wrote {path.name} but ffprobe cannot read it: {lines[-1] if lines else proc.returncode}")
    try:
        return list(json.loads(proc.stdout.decode("utf-8", "replace")).get("streams") or [])
    except json.JSONDecodeError as err:
        raise StageFailed(f"ffprobe gave unreadable output for {path.name}: {err}") from None
