"""Progress through a hook. A long step calls ``hook(step, completed, total)``;
the default hook does nothing, a terminal gets a bar, a log gets a line every
few seconds. Stages never print progress themselves."""

from __future__ import annotations

import sys
import time
from typing import Protocol

from shared.log import get_logger

log = get_logger("shared.progress")


class ProgressHook(Protocol):
    def __call__(self, step: str, completed: float, total: float | None = None) -> None: ...


def no_progress(step: str, completed: float, total: float | None = None) -> None:
    """The default hook: does nothing."""


class TerminalProgress:
    """A one-line bar on a terminal; elsewhere a log line at most every
    ``log_interval_s`` seconds (and at 100 %)."""

    def __init__(self, stage: str, stream=None, log_interval_s: float = 5.0):
        self.stage = stage
        self.stream = stream or sys.stderr
        self.is_tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.log_interval_s = log_interval_s
        self._last_emit = 0.0
        self._started = time.monotonic()

    def __call__(self, step: str, completed: float, total: float | None = None) -> None:
        now = time.monotonic()
        done = total is not None and total > 0 and completed >= total
        if not done and now - self._last_emit < (0.2 if self.is_tty else self.log_interval_s):
            return
        self._last_emit = now
        elapsed = now - self._started
        if total:
            fraction = max(0.0, min(1.0, completed / total))
            eta = f" eta {elapsed / fraction - elapsed:5.0f}s" if 0 < fraction < 1 else ""
            text = f"{self.stage} {step}: {fraction * 100:5.1f}% ({completed:.0f}/{total:.0f}){eta}"
            bar = "#" * int(fraction * 24)
        else:
            text = f"{self.stage} {step}: {completed:.0f}"
            bar = ""
        if self.is_tty:
            self.stream.write(f"\r[{bar:24s}] {text}\033[K")
            if done:
                self.stream.write("\n")
            self.stream.flush()
        else:
            log.info(text)
