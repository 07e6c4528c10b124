"""A worker: ``python -m fleet.worker --stage asr --profile gpu`` (or ``--queues a,b``, or
``--all --profile cpu`` for one worker serving every queue of a profile, as on one box).

One task at a time (the solo pool, prefetch 1): a stage is a subprocess with its own memory and
its own device, and a worker that dies loses at most the one task it held, which Redis hands out
again. Settings: QUEUE_BROKER_URL, QUEUE_VISIBILITY_TIMEOUT_S, ... (README, 'Settings'), JOBS_DIR
and MODEL_CACHE where the shared volumes are mounted.
"""

from __future__ import annotations

import argparse
import socket
import sys

from fleet.queues import PROFILES, all_queues, queues, queues_of_stage
from shared import graph
from shared import log as logging_setup


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fleet.worker", description="A Celery worker for stage tasks.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--stage", help="serve this stage's queue (its .gpu or .cpu queue by --profile)")
    which.add_argument("--queues", help=f"comma-separated queue names (of: {', '.join(all_queues())})")
    which.add_argument("--all", action="store_true", help="serve every queue of --profile")
    parser.add_argument("--profile", choices=PROFILES, default="cpu", help="device class of GPU stages' queues")
    parser.add_argument("--name", default=None, help="worker name (default: the queues and the host)")
    parser.add_argument("--loglevel", default="INFO")
    return parser


def chosen_queues(args: argparse.Namespace) -> list[str]:
    if args.all:
        return list(queues(args.profile))
    if args.stage:
        graph.stage(args.stage)
        found = queues_of_stage(args.stage)
        return [q for q in found if len(found) == 1 or q.endswith("." + args.profile)]
    names = graph.stage_list(args.queues)
    unknown = [q for q in names if q not in all_queues()]
    if unknown or not names:
        raise SystemExit(f"error: unknown queue(s) {', '.join(unknown) or '(none given)'}; queues are: {', '.join(all_queues())}")
    return names


def main(argv: list[str] | None = None) -> int:
    logging_setup.configure()
    args = build_parser().parse_args(argv)
    names = chosen_queues(args)
    from fleet.tasks import app  # after the arguments: --help needs no broker settings

    name = args.name or f"{'+'.join(names) if len(names) <= 2 else args.profile}@{socket.gethostname()}"
    app.worker_main(["worker", "--pool=solo", "--concurrency=1", "--prefetch-multiplier=1", f"--queues={','.join(names)}",
                     f"--hostname={name}", f"--loglevel={args.loglevel}", "--without-gossip", "--without-mingle",
                     "--without-heartbeat"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
