"""The job folder.

    jobs/<job-id>/
        job.json        the input: path, name, size, content hash; created
        config.json     optional option values per stage ({"asr": {"model": "base"}})
        metadata.json   optional user metadata (title, cast, ...), gaps filled from TMDB when it answered
        tmdb.json       optional TMDB answers (no key), fetched once when TMDB_API_KEY is set (host/tmdb.py)
        glossary.tsv    optional glossary
        <stage>/        one folder per stage, written only by that stage
        summary.json    written by the runner after a run

A job id is a plain name: letters, digits, ``.``, ``_``, ``-``; no path tricks.

This module opens a job and finds its files; creating one is host work
(``host/jobs.py``), so stage images carry neither it nor the TMDB client.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared import graph
from shared.errors import InputError, JobError
from shared.fsio import read_json, read_user_json, sha256_file

JOB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
JOB_FILE = "job.json"
CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"


def default_jobs_dir() -> Path:
    return Path(os.environ.get("JOBS_DIR") or "jobs")


def validate_job_id(job_id: str) -> str:
    if not isinstance(job_id, str) or not JOB_ID_PATTERN.fullmatch(job_id) or ".." in job_id:
        raise JobError(
            f"invalid job id {job_id!r}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return job_id


def slug(text: str, max_chars: int = 48) -> str:
    """An ASCII job-id-safe rendering of a file stem ("Amélie 2" -> "Amelie-2")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text).strip("-._")
    return (cleaned or "job")[:max_chars]


@dataclass(frozen=True)
class InputRecord:
    path: str  # absolute path at job creation
    name: str
    size_bytes: int
    sha256: str
    mtime_ns: int


def check_media_file(path: Path) -> None:
    if not path.exists():
        raise InputError(f"input not found: {path}", "check the path (quote it if it has spaces)")
    if not path.is_file():
        raise InputError(f"input is not a file: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"input is empty (0 bytes): {path}", "the file was not copied or downloaded completely")
    try:
        with open(path, "rb"):
            pass
    except OSError as err:
        raise InputError(f"cannot read input {path}: {err.strerror}") from None


@dataclass
class Job:
    root: Path  # jobs/<job-id>

    @property
    def id(self) -> str:
        return self.root.name

    # --- creation and lookup -----------------------------------------------------------------

    @classmethod
    def open(cls, job_id: str, jobs_dir: Path | None = None) -> Job:
        root = (jobs_dir or default_jobs_dir()) / validate_job_id(job_id)
        if not (root / JOB_FILE).is_file():
            raise JobError(f"no job {job_id!r} in {root.parent}", "create it with the runner: make run-native INPUT=<media>")
        return cls(root)

    # --- contents ----------------------------------------------------------------------------

    def input_record(self) -> InputRecord:
        try:
            return InputRecord(**read_json(self.root / JOB_FILE)["input"])
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as err:
            raise JobError(f"{self.root / JOB_FILE} is unreadable ({type(err).__name__})",
                           f"delete the job folder {self.root} and rerun") from None

    def media_path(self) -> Path:
        """The input media; its hash is re-checked (cheaply, by size and mtime)."""
        record = self.input_record()
        path = Path(os.environ.get("JOB_MEDIA_PATH") or record.path)
        check_media_file(path)
        return path

    def config(self) -> dict[str, Any]:
        path = self.root / CONFIG_FILE
        if not path.is_file():
            return {}
        data = read_user_json(path, "job config")
        validate_config(data)
        return data

    def stage_dir(self, stage: str) -> Path:
        graph.stage(stage)  # unknown names never create folders
        return self.root / stage

    def artifact_path(self, name: str) -> Path:
        art = graph.ARTIFACTS[name]
        if art.stage == graph.JOB:
            if name == "media":
                return self.media_path()
            return self.root / art.filename
        return self.stage_dir(art.stage) / art.filename

    def media_hash(self) -> str:
        """Content hash of the input, recomputed only if its size or mtime changed."""
        record = self.input_record()
        path = self.media_path()
        stat = path.stat()
        if stat.st_size == record.size_bytes and stat.st_mtime_ns == record.mtime_ns:
            return record.sha256
        return sha256_file(path)


def validate_config(config: Any) -> None:
    if not isinstance(config, dict):
        raise InputError("job config must be a JSON object of stage name to options")
    for name, values in config.items():
        graph.stage(name)
        if not isinstance(values, dict):
            raise InputError(f"job config for stage {name!r} must be an object of option values")
