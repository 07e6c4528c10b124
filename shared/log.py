"""Logging: one logger per package, human lines on a terminal, JSON lines on
request (``LOG_FORMAT=json``). Secrets never reach a log line: values of
variables named like ``*TOKEN*``/``*KEY*``/``*SECRET*`` are masked."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time

_SECRET_ENV = re.compile(r"(TOKEN|KEY|SECRET|PASSWORD)", re.IGNORECASE)


def get_logger(name: str) -> logging.Logger:
    """The package logger: pass ``__name__`` of the package, e.g. ``stages.asr``."""
    return logging.getLogger(name)


def _secret_values() -> list[str]:
    return [v for k, v in os.environ.items() if _SECRET_ENV.search(k) and len(v) >= 6]


def mask_secrets(text: str) -> str:
    for value in _secret_values():
        text = text.replace(value, "***")
    return text


class _HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        name = record.name.removeprefix("stages.")
        line = f"{stamp} {record.levelname.lower():7s} {name}: {record.getMessage()}"
        if record.exc_info and record.levelno >= logging.DEBUG and os.environ.get("LOG_LEVEL", "").upper() == "DEBUG":
            line += "\n" + self.formatException(record.exc_info)
        return mask_secrets(line)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}) or {})
        return mask_secrets(json.dumps(payload, ensure_ascii=False))


def configure(level: str | None = None, fmt: str | None = None) -> None:
    """Configure the root handler once per process (a stage or the runner)."""
    level = (level or os.environ.get("LOG_LEVEL") or "INFO").upper()
    fmt = (fmt or os.environ.get("LOG_FORMAT") or "human").lower()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else _HumanFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("faster_whisper", "httpx", "huggingface_hub", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
