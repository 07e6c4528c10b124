"""``python -m host.queue submit INPUT... | status [JOB...]`` (make submit, make status)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from fleet.queues import PROFILES
from shared import log as logging_setup
from shared.errors import PipelineError
from shared.job import Job, default_jobs_dir


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m host.queue", description="Jobs on the Celery/Redis queues (docs/SCALE.md).")
    parser.add_argument("--jobs-dir", type=Path, default=None, help="folder of jobs (default: $JOBS_DIR or ./jobs)")
    sub = parser.add_subparsers(dest="command", required=True)
    submit = sub.add_parser("submit", help="create a job per input and enqueue it; prints the job ids")
    submit.add_argument("inputs", nargs="+", help="media files, or folders of them")
    submit.add_argument("--profile", choices=PROFILES, default=None, help="queues of GPU stages (default $QUEUE_PROFILE)")
    submit.add_argument("--skip", action="append", default=[], metavar="STAGE", help="switch off an optional stage")
    submit.add_argument("--force", action="append", default=[], metavar="STAGE", help="rerun STAGE even if fresh")
    submit.add_argument("--config", type=Path, default=None, help="JSON file of options per stage, kept in the job")
    submit.add_argument("--owner", default=None, metavar="UID:GID",
                        help="hand each job folder to the workers' user (when submitting as root; make submit does); "
                             "auto: the user make fleet-up runs the workers as (PIPELINE_UID, else the model cache's owner, else 1000)")
    submit.add_argument("--media-dir", type=Path, default=None,
                        help="refuse inputs outside this folder (the workers' media mount; default $MEDIA_DIR, "
                             "else the running compose fleet's, else no check)")
    status = sub.add_parser("status", help="every submitted job's stages (or the jobs named)")
    status.add_argument("jobs", nargs="*", help="job ids (default: every submitted job)")
    status.add_argument("--json", action="store_true", help="JSON, one object per job")
    return parser


def _submit(args: argparse.Namespace) -> int:
    from fleet.app import make_app, queue_options
    from fleet.dispatch import celery_publisher
    from host.containers.jobs import expand_inputs
    from host.queue.fleet import running_media_dir
    from host.queue.submit import outside_media_dir, submit

    owner = None
    if args.owner == "auto":
        from host.containers.cli import Fail
        from host.containers.jobs import container_user

        try:
            owner = container_user()
        except Fail as err:
            print(f"error: {err}", file=sys.stderr)
            return err.code
    elif args.owner:
        uid, _, gid = args.owner.partition(":")
        owner = (int(uid), int(gid or uid))
    media_dir = args.media_dir or (Path(os.environ["MEDIA_DIR"]) if os.environ.get("MEDIA_DIR") else running_media_dir())
    inputs = expand_inputs(args.inputs)
    if media_dir is not None:
        outside = [reason for reason in (outside_media_dir(m, media_dir) for m in inputs) if reason]
        for reason in outside:
            print(f"error: {reason}", file=sys.stderr)
        if outside:
            return 2
    options = queue_options()
    publish = celery_publisher(make_app(options))
    failures = 0
    for media in inputs:
        try:
            job_id, enqueued = submit(media, publish, args.profile or options.profile, jobs_dir=args.jobs_dir,
                                      config=args.config, force=args.force, skip=args.skip, owner=owner)
        except PipelineError as err:
            print(f"error: {media}: {logging_setup.mask_secrets(str(err))}", file=sys.stderr)
            failures += 1
            continue
        print(job_id, flush=True)
        print(f"  {media}: enqueued {', '.join(enqueued) or 'nothing (already running?)'}", file=sys.stderr)
    return 1 if failures else 0


def _status(args: argparse.Namespace) -> int:
    from host.queue.status import format_status, job_status, submitted_jobs

    jobs_dir = (args.jobs_dir or default_jobs_dir()).absolute()
    jobs = [Job.open(j, jobs_dir) for j in args.jobs] if args.jobs else submitted_jobs(jobs_dir)
    if not jobs:
        print(f"no submitted jobs in {jobs_dir}", file=sys.stderr)
    for job in jobs:
        status = job_status(job)
        if status is None:
            print(f"{job.id}: never submitted to the queue", file=sys.stderr)
        elif args.json:
            print(json.dumps(status))
        else:
            print(format_status(status))
    return 0


def main(argv: list[str] | None = None) -> int:
    logging_setup.configure()
    args = build_parser().parse_args(argv)
    try:
        return _submit(args) if args.command == "submit" else _status(args)
    except PipelineError as err:
        print(f"error: {logging_setup.mask_secrets(str(err))}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    sys.exit(main())
