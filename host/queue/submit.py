"""Submit a job to the queues: open it as every executor does, record the plan, enqueue what is ready."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from fleet.dispatch import Publish, enqueue_ready
from fleet.record import new_record
from host import lifecycle


def submit(media: Path, publish: Publish, profile: str, *, jobs_dir: Path | None = None, job_id: str | None = None,
           config: Path | None = None, metadata: Path | None = None, glossary: Path | None = None,
           force: Sequence[str] = (), skip: Sequence[str] = (), until: str | None = None,
           owner: tuple[int, int] | None = None) -> tuple[str, list[str]]:
    """The job id and the stages enqueued now. ``until``: the last stage of this submission (the
    service's ``/asr`` stops after subtitles). ``owner``: (uid, gid) the job folder is handed to
    before anything is enqueued (the workers' user, when the submitter is root). Raises
    PipelineError (bad input, the job in use)."""
    with contextlib.redirect_stdout(sys.stderr):  # open_job names the folder; stdout is for job ids
        run = lifecycle.open_job(media, jobs_dir=jobs_dir, job_id=job_id, config=config, metadata=metadata,
                                 glossary=glossary, force=list(force), skip=list(skip), until=until, hold_lock=True)
    try:
        if owner is not None:
            hand_over(run.job.root, *owner)
        record = new_record(profile, run.order, sorted(run.skip), sorted(run.forced))
        return run.job.id, enqueue_ready(run.job, record, publish)
    finally:
        if run.lock:
            run.lock.release()


def outside_media_dir(media: Path, media_dir: Path) -> str | None:
    """Why the workers cannot read ``media`` when only ``media_dir`` is mounted in them (at its
    host path, docs/SCALE.md); None when they can. The path as the job records it (absolute, as
    given) and the file it leads to (symlinks followed) must both lie inside the folder."""
    folder = Path(os.path.normpath(media_dir.expanduser().absolute()))
    given = Path(os.path.normpath(media.expanduser().absolute()))
    if not given.is_relative_to(folder) or not media.resolve().is_relative_to(folder.resolve()):
        return (f"{media} is not inside MEDIA_DIR ({folder}), the only folder the workers see: "
                "move it there, or make fleet-up again with MEDIA_DIR=<its folder>")
    return None


def hand_over(root: Path, uid: int, gid: int) -> None:
    """The job folder and everything in it to ``uid:gid`` (the lock file stays usable: flock is not by owner)."""
    for path in [root, *root.rglob("*")]:
        os.chown(path, uid, gid, follow_symlinks=False)
