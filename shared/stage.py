"""Running one stage on one job: the part every stage shares.

A stage package provides a pure ``run(inputs, outputs, options, hook)`` and a
cheap ``model_identity(options)``; its ``__main__`` calls :func:`main`. This
module resolves the options, decides freshness from the lock, lets ``run``
write into ``<stage>/.partial/``, moves the results into place by rename,
and writes the lock last. A stage killed at any point leaves no lock, so a
rerun redoes it; the previous outputs are replaced only file by file, each
by an atomic rename. Every run records what it did in ``<stage>/outcome.json``
(ran or fresh and why, or failed and the one-line reason): the executors read
that, never the stage's output.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared import graph, joblock
from shared import log as logging_setup
from shared import options as opts
from shared.errors import JobError, PipelineError, StageFailed
from shared.fsio import file_mode, fsync_dir, sha256_file
from shared.job import Job
from shared.lock import (
    LOCK_FILE,
    OUTCOME_FILE,
    RECORDS,
    STAGING_DIR,
    Fingerprint,
    Lock,
    output_hashes,
    package_versions,
    staleness,
    write_lock,
    write_outcome,
)
from shared.offline import apply_offline_environment
from shared.peakmem import peak_rss_mb as measure_peak_rss_mb
from shared.progress import ProgressHook, TerminalProgress, no_progress
from shared.sources import code_hash

log = logging_setup.get_logger("shared.stage")


@dataclass
class StageReport:
    """What ``run`` tells about its work; stored in the lock."""

    model: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # shown to the user


RunFn = Callable[[dict[str, Path], dict[str, Path], Any, ProgressHook], StageReport]
ModelFn = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class Outcome:
    stage: str
    status: str  # "ran" or "fresh"
    reasons: tuple[str, ...]
    wall_s: float
    peak_rss_mb: float
    notes: tuple[str, ...] = ()


def _input_paths(spec: graph.StageSpec, job: Job, skip: frozenset[str]) -> tuple[dict[str, Path], dict[str, Path]]:
    """The files the stage reads: required inputs, optional inputs whose producer is not
    skipped, and the optional job files (metadata, glossary) that were given. An artifact
    with a refinement whose stage runs is read as that refinement (post-ner's transcript
    for asr's). Returns what ``run`` gets (each asked-for name maps to the best file; the
    refinement is named too) and what was read, by artifact, for the fingerprint."""
    def needed(name: str) -> Path:
        path = job.artifact_path(name)
        if not path.is_file():
            maker = graph.producer(name)
            hint = f"run stage {maker} first" + (f", or skip it with SKIP_STAGES={maker}" if name not in spec.inputs else "")
            raise JobError(f"{spec.name} needs {name} ({path}), which stage {maker} writes", hint)
        return path

    given = [a for a in spec.optional_inputs if graph.producer(a) == graph.JOB and job.artifact_path(a).is_file()]
    produced = [a for a in spec.optional_inputs if graph.producer(a) not in skip | {graph.JOB}]
    inputs: dict[str, Path] = {}
    read: dict[str, Path] = {}
    for name in [*spec.inputs, *given, *produced]:
        best = next((r for r in graph.refinements(name, spec.name) if graph.producer(r) not in skip), name)
        inputs[name] = inputs[best] = read[best] = needed(best)
    return inputs, read


def fingerprint(spec: graph.StageSpec, job: Job, options: Any, model_fn: ModelFn,
                skip: frozenset[str] = frozenset()) -> tuple[Fingerprint, dict[str, Path]]:
    inputs, read = _input_paths(spec, job, skip)
    hashes = {name: job.media_hash() if name == "media" else sha256_file(path) for name, path in read.items()}
    fp = Fingerprint(
        inputs=hashes,
        options=opts.to_dict(options),
        model=model_fn(options),
        packages=package_versions(spec.packages),
        code=code_hash(spec),
    )
    return fp, inputs


def _publish(staging: Path, stage_dir: Path) -> None:
    """Move every staged file into place by rename, readable as any new file would be
    (0666 less the umask, whoever wrote it: a library's temporary file is 0600); drop
    published files not remade; fsync the folders so the new names are durable."""
    produced = {p.relative_to(staging) for p in staging.rglob("*") if p.is_file()}
    mode = file_mode()
    folders = {stage_dir}
    for rel in sorted(produced):
        target = stage_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(staging / rel, mode)
        os.replace(staging / rel, target)
        folders.add(target.parent)
    for path in sorted(stage_dir.rglob("*"), reverse=True):
        rel = path.relative_to(stage_dir)
        if rel.parts[0] in RECORDS:
            continue
        if path.is_file() and rel not in produced:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for folder in sorted(folders, reverse=True):
        fsync_dir(folder)
    shutil.rmtree(staging, ignore_errors=True)


def execute(
    spec: graph.StageSpec,
    job: Job,
    options: Any,
    run_fn: RunFn,
    model_fn: ModelFn,
    force: bool = False,
    hook: ProgressHook = no_progress,
    skip: frozenset[str] = frozenset(),
) -> Outcome:
    """Run the stage unless fresh. ``skip``: stages switched off (their outputs are not read).
    The outcome is also recorded in ``<stage>/outcome.json``, where the executors read it.
    The job lock is held throughout (shared/joblock.py): another process on the job refuses,
    and this one refuses while another holds it."""
    with joblock.acquire(job.root, job.id):
        return _execute(spec, job, options, run_fn, model_fn, force, hook, skip)


def _execute(spec: graph.StageSpec, job: Job, options: Any, run_fn: RunFn, model_fn: ModelFn, force: bool,
             hook: ProgressHook, skip: frozenset[str]) -> Outcome:
    stage_dir = job.stage_dir(spec.name)
    stage_dir.mkdir(parents=True, exist_ok=True)
    (stage_dir / OUTCOME_FILE).unlink(missing_ok=True)  # an older run's, whatever happens now
    fp, inputs = fingerprint(spec, job, options, model_fn, skip)
    declared = tuple(graph.ARTIFACTS[name].filename for name in spec.outputs)
    reasons = ["forced"] if force else staleness(stage_dir, fp, declared)
    if not reasons:
        log.info("%s is fresh (inputs, options, model and code unchanged): skipped", spec.name)
        outcome = Outcome(spec.name, "fresh", (), 0.0, 0.0)
        write_outcome(stage_dir, dataclasses.asdict(outcome))
        return outcome
    log.info("running %s: %s", spec.name, "; ".join(reasons))
    (stage_dir / LOCK_FILE).unlink(missing_ok=True)
    staging = stage_dir / STAGING_DIR
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    outputs = {name: staging / graph.ARTIFACTS[name].filename for name in spec.outputs}
    started_at, t0, cpu0 = time.time(), time.perf_counter(), time.process_time()
    try:
        report = run_fn(inputs, outputs, options, hook)
        missing = [name for name, path in outputs.items() if not path.is_file()]
        if missing:
            raise StageFailed(f"{spec.name} finished without writing {', '.join(missing)}")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _publish(staging, stage_dir)
    wall_s = time.perf_counter() - t0
    peak_rss_mb = measure_peak_rss_mb()  # this process's own (not the runner's) or its largest child's
    timings = {"started_at": round(started_at, 3), "wall_s": round(wall_s, 3),
               "cpu_s": round(time.process_time() - cpu0, 3), "peak_rss_mb": round(peak_rss_mb, 1)}
    write_lock(stage_dir, Lock(spec.name, fp, output_hashes(stage_dir), timings, dataclasses.asdict(report)))
    for note in report.notes:
        log.warning("%s", note)
    log.info("%s done in %.1f s (peak memory %.0f MB)", spec.name, wall_s, peak_rss_mb)
    outcome = Outcome(spec.name, "ran", tuple(reasons), round(wall_s, 3), round(peak_rss_mb, 1), tuple(report.notes))
    write_outcome(stage_dir, dataclasses.asdict(outcome))
    return outcome


def _enabling_setting(spec: graph.StageSpec) -> str:
    if spec.enabled_by:
        hint = getattr(spec.options, "ENABLING_HINT", "")  # an enabled_by property says in words what switches it on
        return hint or next(f.metadata["env"] for f in opts.fields_of(spec.options) if f.name == spec.enabled_by)
    upstream = sorted(graph.upstream(spec.name))
    return "the settings of " + ", ".join(upstream)


# --- command line ------------------------------------------------------------------------------


def flag_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def build_parser(spec: graph.StageSpec) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m {spec.module}", description=spec.description)
    parser.add_argument("--job", required=True, help="job id (a folder under --jobs-dir)")
    parser.add_argument("--jobs-dir", type=Path, default=None, help="folder of jobs (default: $JOBS_DIR or ./jobs)")
    parser.add_argument("--force", action="store_true", help="run even if the outputs are fresh")
    for f in opts.fields_of(spec.options):
        parser.add_argument(flag_name(f.name), dest=f.name, default=None, metavar="VALUE",
                            help=f"{f.metadata['help']} (env {f.metadata['env']}, default {f.default!r})")
    return parser


def follow_links(spec: graph.StageSpec, options: Any, config: dict[str, Any] | None = None,
                 environ: dict[str, str] | None = None) -> Any:
    """``options`` with every linked field still ``auto`` replaced by the other stage's resolved
    value (its defaults < job config < environment; a runner passes that stage's flags on as
    this stage's own)."""
    changes = {}
    for link in spec.option_links:
        if getattr(options, link.field) == "auto":
            source = graph.stage(link.stage)
            resolved = opts.resolve(source.options, (config or {}).get(source.name), os.environ if environ is None else environ)
            changes[link.field] = link.carried(getattr(resolved, link.source_field))
    return dataclasses.replace(options, **changes) if changes else options


def job_options(spec: graph.StageSpec, job: Job, flags: dict[str, Any] | None = None) -> Any:
    """A stage's options for this job: defaults < job config < environment < flags, links followed."""
    config = job.config()
    return follow_links(spec, opts.resolve(spec.options, config.get(spec.name), os.environ, flags), config)


def stages_off(job: Job, user_skip: frozenset[str],
               flags_of: Callable[[graph.StageSpec], dict[str, Any] | None] | None = None) -> frozenset[str]:
    """SKIP_STAGES plus the stages with nothing to do (e.g. translation without TARGET_LANGUAGES)."""
    idle = graph.switched_off(lambda spec: job_options(spec, job, flags_of(spec) if flags_of else None))
    return user_skip | idle


def forced_by_environment(name: str) -> bool:
    """``FORCE_STAGES`` (comma-separated, or ``all``): how an executor that cannot pass ``--force``
    to one stage (compose) asks for a rerun."""
    names = graph.stage_list(os.environ.get("FORCE_STAGES"))
    return name in names or "all" in names


def _failed(job: Job | None, stage_name: str, reason: str, code: int) -> int:
    """Print the one-line reason and record it in the stage's outcome (when its folder exists)."""
    print(f"error: {reason}", file=sys.stderr)
    stage_dir = job.stage_dir(stage_name) if job is not None else None
    if stage_dir is not None and stage_dir.is_dir():
        try:
            write_outcome(stage_dir, {"stage": stage_name, "status": "failed", "error": reason, "exit_code": code})
        except OSError:
            pass  # the line above says it all
    return code


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the stage is, so it cleans up (``.partial/``) and says why it stopped."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


def main(stage_name: str, run_fn: RunFn, model_fn: ModelFn, argv: list[str] | None = None) -> int:
    """Entry point of ``python -m stages.<stage>``: one line on failure, never a traceback.
    SIGTERM (an executor stopping the run) ends it like Ctrl-C: no lock, the reason recorded, 143."""
    logging_setup.configure()
    signal.signal(signal.SIGTERM, _terminate)
    apply_offline_environment()
    spec = graph.stage(stage_name)
    args = build_parser(spec).parse_args(argv)
    flags = {f.name: getattr(args, f.name) for f in opts.fields_of(spec.options)}
    job = None
    try:
        job = Job.open(args.job, args.jobs_dir)
        user_skip = graph.parse_skip(os.environ.get("SKIP_STAGES"))
        skip = stages_off(job, user_skip, lambda s: flags if s.name == spec.name else None)
        if spec.name in user_skip:
            raise JobError(f"stage {spec.name} is switched off by SKIP_STAGES", "unset it to run this stage")
        if spec.name in skip:
            raise JobError(f"stage {spec.name} has nothing to do with these settings",
                           f"set {_enabling_setting(spec)} to run it")
        options = job_options(spec, job, flags)
        force = args.force or forced_by_environment(spec.name)
        outcome = execute(spec, job, options, run_fn, model_fn, force, TerminalProgress(spec.name), skip)
    except PipelineError as err:
        return _failed(job, stage_name, f"{stage_name}: {logging_setup.mask_secrets(str(err))}", err.exit_code)
    except Terminated:
        return _failed(job, stage_name, f"{stage_name}: stopped by SIGTERM; rerun to finish (completed stages are kept)", 143)
    except KeyboardInterrupt:
        return _failed(job, stage_name, f"{stage_name}: interrupted; rerun to finish (completed stages are kept)", 130)
    except Exception as err:  # a bug: still one line, the traceback only on request
        log.debug("traceback", exc_info=True)
        return _failed(job, stage_name, f"{stage_name}: internal error {type(err).__name__}: "
                       f"{logging_setup.mask_secrets(str(err))} (rerun with LOG_LEVEL=DEBUG for the traceback, "
                       "and please report it)", 1)
    print(json.dumps(dataclasses.asdict(outcome)), flush=True)
    return 0
