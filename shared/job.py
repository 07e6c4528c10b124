"""The job folder.

    jobs/<job-id>/
        job.json        the input: path, name, size, content hash; created
        config.json     optional option values per stage ({"asr": {"model": "base"}})
        metadata.json   optional user metadata (title, cast, ...), gaps filled from TMDB when it answered
        tmdb.json       optional TMDB answers (no key), fetched once when TMDB_API_KEY is set (shared/tmdb.py)
        glossary.tsv    optional glossary
        <stage>/        one folder per stage, written only by that stage
        summary.json    written by the runner after a run

A job id is a plain name: letters, digits, ``.``, ``_``, ``-``; no path tricks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shared import graph, tmdb
from shared.errors import InputError, JobError
from shared.fsio import atomic_write_json, read_json, sha256_file
from shared.metadata import load_glossary, load_metadata, parse_metadata

JOB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
JOB_FILE = "job.json"
CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"


def default_jobs_dir() -> Path:
    return Path(os.environ.get("JOBS_DIR") or "jobs")


def validate_job_id(job_id: str) -> str:
    if not isinstance(job_id, str) or not JOB_ID_PATTERN.match(job_id) or ".." in job_id:
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


def _check_media_file(path: Path) -> None:
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
    def open(cls, job_id: str, jobs_dir: Path | None = None) -> "Job":
        root = (jobs_dir or default_jobs_dir()) / validate_job_id(job_id)
        if not (root / JOB_FILE).is_file():
            raise JobError(f"no job {job_id!r} in {root.parent}", "create it with the runner: make run-native INPUT=<media>")
        return cls(root)

    @classmethod
    def create(
        cls,
        media: Path,
        jobs_dir: Path | None = None,
        job_id: str | None = None,
        config: dict[str, Any] | None = None,
        metadata: Path | None = None,
        glossary: Path | None = None,
    ) -> "Job":
        """Create (or reopen) the job for ``media``. The default id is the file stem plus a
        short content hash, so the same file always maps to the same job."""
        media = media.expanduser().absolute()
        _check_media_file(media)
        record = _input_record(media)
        job_id = validate_job_id(job_id or f"{slug(media.stem)}-{record.sha256[:8]}")
        root = (jobs_dir or default_jobs_dir()) / job_id
        root.mkdir(parents=True, exist_ok=True)
        job = cls(root)
        existing = job.input_record() if (root / JOB_FILE).is_file() else None
        if existing and existing.sha256 != record.sha256:
            raise JobError(
                f"job {job_id!r} was made for another file ({existing.name})",
                "pick another --job-id or delete the job folder",
            )
        atomic_write_json(root / JOB_FILE, {"id": job_id, "created": existing_created(root) or time.time(), "input": asdict(record)})
        if config is not None:
            _validate_config(config)
            atomic_write_json(root / CONFIG_FILE, config)
        for src, name, validate in ((metadata, METADATA_FILE, load_metadata), (glossary, "glossary.tsv", load_glossary)):
            if src is not None:
                if not Path(src).is_file():
                    raise InputError(f"{name.split('.')[0]} file not found: {src}")
                validate(Path(src))
        if glossary is not None:
            shutil.copyfile(glossary, root / "glossary.tsv")
        _place_metadata(root, media.name, Path(metadata) if metadata is not None else None)
        return job

    # --- contents ----------------------------------------------------------------------------

    def input_record(self) -> InputRecord:
        return InputRecord(**read_json(self.root / JOB_FILE)["input"])

    def media_path(self) -> Path:
        """The input media; its hash is re-checked (cheaply, by size and mtime)."""
        record = self.input_record()
        path = Path(os.environ.get("JOB_MEDIA_PATH") or record.path)
        _check_media_file(path)
        return path

    def config(self) -> dict[str, Any]:
        path = self.root / CONFIG_FILE
        if not path.is_file():
            return {}
        try:
            data = read_json(path)
        except json.JSONDecodeError as err:
            raise JobError(f"{path} is not valid JSON: {err}") from None
        _validate_config(data)
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


def existing_created(root: Path) -> float | None:
    try:
        return read_json(root / JOB_FILE).get("created")
    except (OSError, ValueError):
        return None


def _place_metadata(root: Path, media_name: str, given: Path | None) -> None:
    """The job's metadata.json: the user's (``given``, else the one the job has), its empty
    fields filled from TMDB when the job has ``tmdb.json`` or TMDB_API_KEY is set. The same
    inputs always give the same bytes, so the stages that read it stay fresh."""
    target = root / METADATA_FILE
    source = given if given is not None else target
    user: dict[str, Any] = {}
    if source.is_file():
        if given is None:
            load_metadata(source)  # the job's copy may have been edited since it was checked
        user = read_json(source)
    fetched = tmdb.fields_for_job(root, media_name, user, keep_cached=given is None, options=tmdb.TmdbOptions.from_env())
    merged = tmdb.merge(user, fetched) if fetched else user
    if merged == user:
        if given is not None:
            shutil.copyfile(given, target)  # the user's bytes, as given
        return
    parse_metadata(merged, METADATA_FILE)
    atomic_write_json(target, merged)


def _input_record(media: Path) -> InputRecord:
    stat = media.stat()
    return InputRecord(str(media), media.name, stat.st_size, sha256_file(media), stat.st_mtime_ns)


def _validate_config(config: Any) -> None:
    if not isinstance(config, dict):
        raise InputError("job config must be a JSON object of stage name to options")
    for name, values in config.items():
        graph.stage(name)
        if not isinstance(values, dict):
            raise InputError(f"job config for stage {name!r} must be an object of option values")
