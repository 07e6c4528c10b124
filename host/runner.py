"""The native runner: one command from a media file to subtitles.

    python -m host.runner movie.mp4 [--force asr] [--from subtitles] [--asr-model base] ...

The native executor: it starts every stage of the graph as its own process
(exactly as a container runs it), in graph order, each as soon as what it reads
is done. The rest is the job lifecycle every executor shares (host/lifecycle.py):
the job created or reopened, the plan (``--force``, ``--from``, ``--until``,
``--skip``), fresh stages reported as such, the summary (output paths, per-stage
timings, also in ``<job>/summary.json``). A rerun after a failure or a kill
finishes the job. SIGTERM or SIGINT stops the stages too (host/stopping.py): no
stage outlives the runner, which exits ``128 + n``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from host import lifecycle
from host.stopping import ProcessGroups
from shared import graph, joblock
from shared import log as logging_setup
from shared import options as opts
from shared.errors import PipelineError
from shared.job import Job
from shared.offline import REPO_ROOT, model_cache

log = logging_setup.get_logger("host.runner")


def _option_dest(stage: str, field: str) -> str:
    return f"opt__{stage.replace('-', '_')}__{field}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m host.runner",
        description="Subtitles for a film or episode: runs the whole stage graph natively.",
        epilog="Every option can also be set in the environment (see README, 'Settings') or in --config.",
    )
    parser.add_argument("input", type=Path, help="the media file (video or audio)")
    parser.add_argument("--jobs-dir", type=Path, default=None, help="folder of jobs (default: $JOBS_DIR or ./jobs)")
    parser.add_argument("--job-id", default=None, help="job id (default: file name + content hash)")
    parser.add_argument("--config", type=Path, default=None, help="JSON file of options per stage, kept in the job")
    parser.add_argument("--metadata", type=Path, default=None,
                        help="metadata.json: title, synopsis, cast, places, terms, speaker names (docs/NAMES.md)")
    parser.add_argument("--glossary", type=Path, default=None,
                        help="glossary.tsv: term, preferred, aliases, note (docs/NAMES.md)")
    parser.add_argument("--force", action="append", default=[], metavar="STAGE",
                        help="rerun STAGE even if fresh (repeatable; 'all' for every stage)")
    parser.add_argument("--from", dest="from_stage", default=None, metavar="STAGE",
                        help="rerun STAGE and every stage after it")
    parser.add_argument("--until", default=None, metavar="STAGE", help="stop after STAGE")
    parser.add_argument("--parallel", type=int, default=int(os.environ.get("PARALLEL_STAGES") or 2), metavar="N",
                        help="stages run at once when the graph allows (e.g. asr beside diarization; "
                             "default $PARALLEL_STAGES or 2)")
    parser.add_argument("--skip", action="append", default=[], metavar="STAGE",
                        help="switch off an optional stage (repeatable; adds to $SKIP_STAGES)")
    group = parser.add_argument_group("stage options (override environment and --config)")
    for spec in graph.STAGES:
        for f in opts.fields_of(spec.options):
            group.add_argument(f"--{spec.name}-{f.name.replace('_', '-')}", dest=_option_dest(spec.name, f.name),
                               default=None, metavar="VALUE", help=f"{f.metadata['help']} (env {f.metadata['env']})")
    return parser


def _stage_option_values(args: argparse.Namespace, spec: graph.StageSpec) -> dict[str, str]:
    values = {f.name: getattr(args, _option_dest(spec.name, f.name)) for f in opts.fields_of(spec.options)}
    return {name: value for name, value in values.items() if value is not None}


def stage_options(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    """The stage options given as flags, per stage: a job config (what the queue executor hands
    its workers instead of flags, host/service/queue_executor.py)."""
    return {spec.name: values for spec in graph.STAGES if (values := _stage_option_values(args, spec))}


def _stage_flags(args: argparse.Namespace, spec: graph.StageSpec) -> list[str]:
    """The stage's own flags, and for each option that follows another stage's (graph
    ``option_links``) that stage's flag, unless the stage's own is given."""
    values = _stage_option_values(args, spec)
    for link in spec.option_links:
        linked = _stage_option_values(args, graph.stage(link.stage)).get(link.source_field)
        if link.field not in values and linked is not None:
            values[link.field] = link.carried(linked)
    flags = []
    for name, value in values.items():
        flags += [f"--{name.replace('_', '-')}", value]
    return flags


def run_stage_process(spec: graph.StageSpec, job: Job, forced: bool, flags: list[str], skip: frozenset[str],
                      lock_fd: int | None = None, groups: ProcessGroups | None = None) -> int | None:
    """One stage as its own process, exactly as a container runs it, in a process group of its
    own (``groups``: host/stopping.py); returns its exit status (``-n``: killed by signal n; None:
    the run was stopped before it started). What it did, it records in its outcome.json.
    ``lock_fd``: the runner's job lock, handed to the stage (``JOB_LOCK_FD``), which shares it
    instead of refusing the job."""
    cmd = [sys.executable, "-m", spec.module, "--job", job.id, "--jobs-dir", str(job.root.parent), *flags]
    if forced:
        cmd.append("--force")
    # TMDB_* are job-creation settings (the key is a secret): stages never see them
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TMDB_")}, "SKIP_STAGES": ",".join(sorted(skip)),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop(joblock.FD_ENV, None)
    if lock_fd is not None:
        env[joblock.FD_ENV] = str(lock_fd)
    return (groups or ProcessGroups()).run(cmd, stdout=subprocess.DEVNULL, env=env, cwd=REPO_ROOT,
                                           pass_fds=(lock_fd,) if lock_fd is not None else ())


def run_graph(job: Job, order: list[str], forced: set[str], skip: frozenset[str], flags: dict[str, list[str]],
              parallel: int, codes: dict[str, int | None] | None = None, lock_fd: int | None = None,
              groups: ProcessGroups | None = None) -> tuple[dict[str, int | None], tuple[str, int] | None]:
    """Run the stages in ``order``, each as soon as the stages it reads have finished, at most
    ``parallel`` at once. After a failure no new stage starts; running ones finish (their
    work is kept). When ``groups`` is asked to stop (a signal), no new stage starts and the
    running ones get :data:`host.stopping.GRACE_S` before SIGKILL. Returns the exit status of
    every stage that finished (also filled into ``codes`` as they finish) and the first failure."""
    codes = {} if codes is None else codes
    done = {name for name in order if name in skip}
    pending = [n for n in order if n not in skip]
    in_run = set(order)
    running: dict[Future, str] = {}
    failure: tuple[str, int] | None = None
    stopping = (lambda: groups.stopping) if groups is not None else (lambda: False)
    handed: dict[str, Any] = {k: v for k, v in (("lock_fd", lock_fd), ("groups", groups)) if v is not None}
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        while running or (pending and failure is None and not stopping()):
            for name in graph.ready(order, done, started=in_run - set(pending)):
                if failure is not None or stopping() or len(running) >= max(1, parallel):
                    break
                pending.remove(name)
                future = pool.submit(run_stage_process, graph.stage(name), job, name in forced, flags[name], skip,
                                     **handed)
                running[future] = name
            if not running:
                break
            finished, _ = wait(running, timeout=0.5 if groups is not None else None, return_when=FIRST_COMPLETED)
            if groups is not None:
                groups.escalate()
            for future in finished:
                name = running.pop(future)
                code = future.result()
                if code is None:  # stopped before it started
                    continue
                codes[name] = code
                if code == 0:
                    done.add(name)
                elif failure is None:
                    failure = (name, code)
    return codes, failure


def main(argv: list[str] | None = None) -> int:
    """Run the job; one line on any failure, never a traceback (LOG_LEVEL=DEBUG shows it)."""
    logging_setup.configure()
    args = build_parser().parse_args(argv)
    try:
        return _main(args)
    except PipelineError as err:
        print(f"error: {logging_setup.mask_secrets(str(err))}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("error: interrupted; rerun the same command to finish (finished stages are kept)", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: still one line
        log.debug("traceback", exc_info=True)
        print(f"error: internal error {type(err).__name__}: {logging_setup.mask_secrets(str(err))[:300]} "
              "(rerun with LOG_LEVEL=DEBUG for the traceback, and please report it)", file=sys.stderr)
        return 1


def _main(args: argparse.Namespace) -> int:
    try:
        run = lifecycle.open_job(args.input, jobs_dir=args.jobs_dir, job_id=args.job_id, config=args.config,
                                 metadata=args.metadata, glossary=args.glossary, force=args.force,
                                 from_stage=args.from_stage, until=args.until, skip=args.skip,
                                 flags_of=lambda spec: _stage_option_values(args, spec), hold_lock=True)
    except PipelineError as err:
        print(f"error: {logging_setup.mask_secrets(str(err))}", file=sys.stderr)
        return err.exit_code
    log.info("job %s in %s (model cache %s)", run.job.id, run.job.root, model_cache())
    flags = {name: _stage_flags(args, graph.stage(name)) for name in run.order}
    codes: dict[str, int | None] = {}
    groups = ProcessGroups()
    run.start()
    with groups.forwarding():  # SIGTERM/SIGINT: the stages' groups get it, the summary says so
        codes, _ = run_graph(run.job, run.order, run.forced, run.skip, flags, args.parallel, codes,
                             run.lock.fd if run.lock else None, groups)
    finished = lifecycle.finish_job(run, codes, interrupted=groups.stopping, signum=groups.signum)
    if finished.error:
        print(f"error: {finished.error}", file=sys.stderr)
    return finished.exit_code


if __name__ == "__main__":
    sys.exit(main())
