"""The job's queue record, ``<job>/queue.json``: what this submission planned, what was
enqueued and started (when, by which worker, how often delivered), and the failure that
ended it. Written only by whoever holds the job lock (the submitter, then one worker at a
time), atomically; read by anyone (the status)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shared.fsio import atomic_write_json, read_json

RECORD_FILE = "queue.json"


@dataclass
class StageRecord:
    queue: str
    enqueued_at: float
    started_at: float | None = None  # the last delivery that got the job lock
    worker: str = ""  # host and pid of that delivery's worker
    deliveries: int = 0  # deliveries that got the job lock (a redelivery after a lost worker counts again)
    exit_code: int | None = None


@dataclass
class QueueRecord:
    profile: str
    submitted_at: float
    order: list[str]  # the stages of this submission, graph order
    skip: list[str]  # switched off (SKIP_STAGES, and the stages with nothing to do)
    forced: list[str] = field(default_factory=list)
    stages: dict[str, StageRecord] = field(default_factory=dict)
    failed: dict[str, str] | None = None  # {"stage": ..., "reason": ...}

    @property
    def to_run(self) -> list[str]:
        return [s for s in self.order if s not in self.skip]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QueueRecord:
        stages = {name: StageRecord(**value) for name, value in data.get("stages", {}).items()}
        return cls(data["profile"], float(data["submitted_at"]), list(data["order"]), list(data["skip"]),
                   list(data.get("forced", [])), stages, data.get("failed"))


def read_record(job_root: Path) -> QueueRecord | None:
    """The job's record; None when the job was never submitted to the queue."""
    path = job_root / RECORD_FILE
    try:
        return QueueRecord.from_json(read_json(path))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{path} is unreadable ({type(err).__name__}): submit the job again") from None


def write_record(job_root: Path, record: QueueRecord) -> None:
    """Only while holding the job lock."""
    atomic_write_json(job_root / RECORD_FILE, record.to_json())


def new_record(profile: str, order: list[str], skip: list[str], forced: list[str]) -> QueueRecord:
    return QueueRecord(profile, round(time.time(), 3), order, skip, forced)
