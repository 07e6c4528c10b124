"""Locks and freshness, DVC-style.

After a stage succeeds it records ``<stage>/lock.json``: the hash of every
input, the resolved option values, the model identity (id, revision, path),
the versions of the packages that made the result, the code hash, the hash
of every output, and timings. A stage is fresh only when all of that still
matches; neither mtimes nor "the file exists" decide.

Beside the lock, every run of a stage leaves ``<stage>/outcome.json``: what
that run did (``ran`` or ``fresh``, and why; or ``failed`` and the one-line
reason). The executors read it instead of the stage's output. Neither file is
an output of the stage: output hashes and publishing leave both alone.
"""

from __future__ import annotations

import importlib.metadata
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shared.fsio import atomic_write_json, read_json, sha256_file

LOCK_FILE = "lock.json"
OUTCOME_FILE = "outcome.json"
STAGING_DIR = ".partial"
RECORDS = (LOCK_FILE, OUTCOME_FILE, STAGING_DIR)  # in a stage folder, but not its outputs


SINGULAR = {"inputs": "input", "options": "option", "model": "model", "packages": "package"}  # for the reasons a stage reruns


@dataclass(frozen=True)
class Fingerprint:
    """What a result depends on: compared field by field to decide freshness."""

    inputs: dict[str, str]
    options: dict[str, Any]
    model: dict[str, Any]
    packages: dict[str, str]
    code: str

    def differences(self, other: Fingerprint) -> list[str]:
        """Human-readable reasons why ``other`` (the recorded one) is stale."""
        reasons = []
        for name in ("inputs", "options", "model", "packages"):
            mine, theirs = getattr(self, name), getattr(other, name)
            for key in sorted(set(mine) | set(theirs)):
                if mine.get(key) != theirs.get(key):
                    reasons.append(f"{SINGULAR[name]} {key} changed")
        if self.code != other.code:
            reasons.append("stage code changed")
        return reasons


@dataclass(frozen=True)
class Lock:
    stage: str
    fingerprint: Fingerprint
    outputs: dict[str, str]  # relative path -> sha256
    timings: dict[str, float]
    report: dict[str, Any] = field(default_factory=dict)
    python: str = field(default_factory=platform.python_version)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(data.pop("fingerprint"))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Lock:
        """Raises TypeError or KeyError for anything but a lock this module wrote (wrong types included)."""
        if not isinstance(data, dict):
            raise TypeError("a lock is a JSON object")
        kinds = {"stage": str, "inputs": dict, "options": dict, "model": dict, "packages": dict, "code": str,
                 "outputs": dict, "timings": dict, "report": dict, "python": str}
        for key, kind in kinds.items():
            if not isinstance(data.get(key, kind()), kind):
                raise TypeError(f"{key} must be a {kind.__name__}")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in {**data["inputs"], **data["outputs"]}.items()):
            raise TypeError("input and output hashes must be strings")
        fp = Fingerprint(**{k: data[k] for k in ("inputs", "options", "model", "packages", "code")})
        return cls(data["stage"], fp, data["outputs"], data["timings"], data.get("report", {}), data.get("python", ""))


def package_versions(names: tuple[str, ...]) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def output_hashes(stage_dir: Path) -> dict[str, str]:
    """Hashes of every published file in a stage folder (not the lock, not staging)."""
    hashes = {}
    for path in sorted(stage_dir.rglob("*")):
        rel = path.relative_to(stage_dir)
        if path.is_file() and rel.parts[0] not in RECORDS and not path.name.endswith(".tmp"):
            hashes[rel.as_posix()] = sha256_file(path)
    return hashes


def read_lock(stage_dir: Path) -> Lock | None:
    path = stage_dir / LOCK_FILE
    if not path.is_file():
        return None
    try:
        return Lock.from_json(read_json(path))
    except (ValueError, KeyError, TypeError, RecursionError):
        return None  # an unreadable lock is no lock: the stage reruns


def write_lock(stage_dir: Path, lock: Lock) -> None:
    atomic_write_json(stage_dir / LOCK_FILE, lock.to_json())


def write_outcome(stage_dir: Path, outcome: dict[str, Any]) -> None:
    """Record what this run of the stage did (``status``: ran, fresh or failed), stamped with the time."""
    atomic_write_json(stage_dir / OUTCOME_FILE, {**outcome, "finished_at": round(time.time(), 3)})


def read_outcome(stage_dir: Path, since: float = 0.0) -> dict[str, Any] | None:
    """The stage's last recorded outcome, if it finished at or after ``since`` (a run's start)."""
    try:
        data = read_json(stage_dir / OUTCOME_FILE)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or float(data.get("finished_at") or 0) < since:
        return None
    return data


def staleness(stage_dir: Path, current: Fingerprint, declared: tuple[str, ...] = ()) -> list[str]:
    """Why the stage must run; an empty list means it is fresh. ``declared``: the stage's output
    files (graph), each of which the lock must list and the folder must hold."""
    lock = read_lock(stage_dir)
    if lock is None:
        return ["never completed"]
    missing = [name for name in declared if name not in lock.outputs or not (stage_dir / name).is_file()]
    if missing:
        return [f"output {name} is missing" for name in missing]
    reasons = current.differences(lock.fingerprint)
    if not reasons and output_hashes(stage_dir) != lock.outputs:
        reasons.append("outputs were changed or removed")
    return reasons
