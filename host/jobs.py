"""Creating a job folder for a media file (host side: the runners and the service).

The job id is the file stem plus a short content hash, so the same file always
maps to the same job; reopening a job keeps its stages. Metadata and glossary
are validated and copied in; with ``TMDB_API_KEY`` set the metadata's gaps are
filled from TMDB (host/tmdb.py), cached in the job.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from host import tmdb
from shared.errors import InputError, JobError
from shared.fsio import atomic_write_json, read_json, sha256_file
from shared.job import (
    CONFIG_FILE,
    JOB_FILE,
    METADATA_FILE,
    InputRecord,
    Job,
    check_media_file,
    default_jobs_dir,
    slug,
    validate_config,
    validate_job_id,
)
from shared.metadata import load_glossary, load_metadata, parse_metadata


def create_job(
    media: Path,
    jobs_dir: Path | None = None,
    job_id: str | None = None,
    config: dict[str, Any] | None = None,
    metadata: Path | None = None,
    glossary: Path | None = None,
    on_folder: Callable[[Path], object] | None = None,
) -> Job:
    """Create (or reopen) the job for ``media``. The default id is the file stem plus a
    short content hash, so the same file always maps to the same job. ``on_folder(root)``
    is called once the folder exists, before anything is written into it (the runner
    takes the job lock there)."""
    media = media.expanduser().absolute()
    check_media_file(media)
    record = _input_record(media)
    job_id = validate_job_id(job_id or f"{slug(media.stem)}-{record.sha256[:8]}")
    # everything given is checked before the job folder is made: a rejected file leaves nothing behind
    if config is not None:
        validate_config(config)
    for src, name, validate in ((metadata, METADATA_FILE, load_metadata), (glossary, "glossary.tsv", load_glossary)):
        if src is not None:
            if not Path(src).is_file():
                raise InputError(f"{name.split('.')[0]} file not found: {src}")
            validate(Path(src))
    jobs_dir = jobs_dir or default_jobs_dir()
    if jobs_dir.exists() and not jobs_dir.is_dir():
        raise JobError(f"the jobs folder {jobs_dir} is not a folder", "point JOBS_DIR or --jobs-dir at a folder")
    root = jobs_dir / job_id
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise JobError(f"cannot make the job folder {root}: {err.strerror}", "point JOBS_DIR or --jobs-dir at a writable folder") from None
    if on_folder is not None:
        on_folder(root)
    job = Job(root)
    existing = job.input_record() if (root / JOB_FILE).is_file() else None
    if existing and existing.sha256 != record.sha256:
        raise JobError(
            f"job {job_id!r} was made for another file ({existing.name})",
            "pick another --job-id or delete the job folder",
        )
    content = {"id": job_id, "created": existing_created(root) or time.time(), "input": asdict(record)}
    if existing is None or read_json(root / JOB_FILE) != content:  # unchanged: not rewritten (a read-only job still opens)
        atomic_write_json(root / JOB_FILE, content)
    if config is not None:
        atomic_write_json(root / CONFIG_FILE, config)
    if glossary is not None:
        shutil.copyfile(glossary, root / "glossary.tsv")
    _place_metadata(root, media.name, Path(metadata) if metadata is not None else None)
    return job


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
