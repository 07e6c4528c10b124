"""The native runner: one command from a media file to subtitles.

    python -m host.runner movie.mp4 [--force asr] [--from subtitles] [--asr-model base] ...

Creates (or reopens) the job under ``JOBS_DIR``, prints its folder, runs every
stage of the graph in order as its own process (exactly as a container would
run it), skips fresh stages, and ends with a summary: output paths,
durations and per-stage timings, also written to ``<job>/summary.json``.
A rerun after a failure or a kill finishes the job.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from shared import graph, log as logging_setup
from shared import options as opts
from shared.errors import PipelineError
from shared.fsio import atomic_write_json, read_json
from shared.job import Job, default_jobs_dir
from host.jobs import create_job
from shared.lock import read_lock
from shared.models import REPO_ROOT, model_cache
from shared.schema import MediaInfo, MuxManifest, SubtitleManifest
from shared.stage import stages_off

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


def _stage_flags(args: argparse.Namespace, spec: graph.StageSpec) -> list[str]:
    """The stage's own flags, and for each option that follows another stage's (graph
    ``option_links``) that stage's flag, unless the stage's own is given."""
    values = _stage_option_values(args, spec)
    for link in spec.option_links:
        linked = _stage_option_values(args, graph.stage(link.stage)).get(link.source_field)
        if link.field not in values and linked is not None:
            values[link.field] = linked
    flags = []
    for name, value in values.items():
        flags += [f"--{name.replace('_', '-')}", value]
    return flags


def _load_config(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        return read_json(path)
    except FileNotFoundError:
        raise PipelineError(f"config file not found: {path}") from None
    except json.JSONDecodeError as err:
        raise PipelineError(f"config file {path} is not valid JSON: {err}") from None


def plan(force: list[str], from_stage: str | None, until: str | None) -> tuple[list[str], set[str]]:
    """The stages to run, in order, and those forced to rerun."""
    order = [s.name for s in graph.topological_order()]
    for name in [*force, from_stage, until]:
        if name and name != "all":
            graph.stage(name)
    forced = set(order) if "all" in force else set(force)
    if from_stage:
        forced |= set(graph.downstream(from_stage))
    if until:
        order = order[: order.index(until) + 1]
    return order, forced


def run_stage_process(spec: graph.StageSpec, job: Job, forced: bool, flags: list[str],
                      skip: frozenset[str]) -> tuple[int, dict[str, Any]]:
    cmd = [sys.executable, "-m", spec.module, "--job", job.id, "--jobs-dir", str(job.root.parent), *flags]
    if forced:
        cmd.append("--force")
    # TMDB_* are job-creation settings (the key is a secret): stages never see them
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TMDB_")}, "SKIP_STAGES": ",".join(sorted(skip)),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None, text=True, env=env, cwd=REPO_ROOT)
    outcome: dict[str, Any] = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            try:
                outcome = json.loads(line)
            except json.JSONDecodeError:
                pass
    return proc.returncode, outcome


def run_graph(job: Job, order: list[str], forced: set[str], skip: frozenset[str], flags: dict[str, list[str]],
              parallel: int) -> tuple[dict[str, dict[str, Any]], tuple[str, int] | None]:
    """Run the stages in ``order``, each as soon as the stages it reads have finished, at most
    ``parallel`` at once. After a failure no new stage starts; running ones finish (their
    work is kept). Returns the outcomes and the first failure (stage, exit status)."""
    outcomes: dict[str, dict[str, Any]] = {}
    for name in order:
        if name in skip:
            outcomes[name] = {"status": "skipped"}
    pending = [n for n in order if n not in skip]
    in_run = set(order)
    running: dict[Future, str] = {}
    failure: tuple[str, int] | None = None
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        while running or (pending and failure is None):
            for name in list(pending):
                if failure is not None or len(running) >= max(1, parallel):
                    break
                if all(dep in outcomes for dep in graph.upstream(name) & in_run):
                    pending.remove(name)
                    future = pool.submit(run_stage_process, graph.stage(name), job, name in forced, flags[name], skip)
                    running[future] = name
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                code, outcome = future.result()
                if code == 0:
                    outcomes[name] = outcome
                elif failure is None:
                    failure = (name, code)
    return outcomes, failure


def summarize(job: Job, order: list[str], outcomes: dict[str, dict[str, Any]], wall_s: float) -> dict[str, Any]:
    stages = []
    for name in order:
        lock = read_lock(job.stage_dir(name)) if outcomes.get(name, {}).get("status") != "skipped" else None
        timings = lock.timings if lock else {}
        stages.append({
            "stage": name,
            "status": outcomes.get(name, {}).get("status", "not run"),
            "wall_s": timings.get("wall_s"),
            "peak_rss_mb": timings.get("peak_rss_mb"),
            "notes": (lock.report.get("notes", []) if lock else []),
        })
    summary: dict[str, Any] = {"job": job.id, "folder": str(job.root), "input": job.input_record().path,
                               "wall_s": round(wall_s, 3), "stages": stages, "outputs": {}}
    media_path = job.artifact_path("media_info")
    if media_path.is_file():
        info = MediaInfo.from_json(read_json(media_path))
        summary["duration_s"] = info.duration_s
    subs_path = job.artifact_path("subtitles")
    if subs_path.is_file():
        manifest = SubtitleManifest.from_json(read_json(subs_path))
        summary["outputs"]["subtitles"] = [str(subs_path.parent / f.path) for f in manifest.files]
        summary["cues"] = manifest.cue_count
    qc_path = job.artifact_path("qc_report")
    if qc_path.is_file():
        summary["qc_issues"] = read_json(qc_path).get("cues_with_violations", 0)
        summary["outputs"]["qc_report"] = str(qc_path)
    mux_path = job.artifact_path("muxed_media")
    if mux_path.is_file():
        summary["outputs"]["media"] = str(mux_path.parent / MuxManifest.from_json(read_json(mux_path)).path)
    return summary


def print_summary(summary: dict[str, Any]) -> None:
    out = sys.stdout
    out.write(f"\njob {summary['job']}  ({summary['folder']})\n")
    if "duration_s" in summary:
        out.write(f"input {summary['input']}  duration {summary['duration_s']:.1f} s\n")
    width = max([len(s["stage"]) for s in summary["stages"]] + [5]) + 2
    out.write(f"{'stage':<{width}}{'status':<10}{'wall s':>8}{'peak MB':>9}\n")
    for s in summary["stages"]:
        wall = f"{s['wall_s']:.1f}" if s["wall_s"] is not None else "-"
        peak = f"{s['peak_rss_mb']:.0f}" if s["peak_rss_mb"] is not None else "-"
        out.write(f"{s['stage']:<{width}}{s['status']:<10}{wall:>8}{peak:>9}\n")
        for note in s["notes"]:
            out.write(f"    note: {note}\n")
    out.write(f"total {summary['wall_s']:.1f} s\n")
    outputs = summary["outputs"]
    if outputs:
        out.write("outputs:\n")
        for path in outputs.get("subtitles", []):
            out.write(f"  {path}\n")
        if "media" in outputs:
            out.write(f"  {outputs['media']}\n")
        if "qc_report" in outputs:
            out.write(f"  {outputs['qc_report']}  ({summary.get('qc_issues', 0)} cue(s) break a layout rule)\n")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    logging_setup.configure()
    args = build_parser().parse_args(argv)
    jobs_dir = args.jobs_dir or default_jobs_dir()
    try:
        order, forced = plan(args.force, args.from_stage, args.until)
        user_skip = graph.parse_skip(",".join([os.environ.get("SKIP_STAGES", ""), *args.skip]))
        config = _load_config(args.config)
        existing = set(jobs_dir.iterdir()) if jobs_dir.is_dir() else set()
        job = create_job(args.input, jobs_dir=jobs_dir, job_id=args.job_id, config=config,
                         metadata=args.metadata, glossary=args.glossary)
    except PipelineError as err:
        print(f"error: {logging_setup.mask_secrets(str(err))}", file=sys.stderr)
        return err.exit_code
    created = job.root not in existing
    try:
        skip = stages_off(job, user_skip, lambda spec: _stage_option_values(args, spec))
    except PipelineError as err:
        print(f"error: {logging_setup.mask_secrets(str(err))}", file=sys.stderr)
        return err.exit_code
    for name in sorted(skip - user_skip):
        log.info("%s: nothing to do with these settings: skipped", name)
    log.info("job %s in %s (model cache %s)", job.id, job.root, model_cache())
    print(f"job folder: {job.root}", flush=True)
    started = time.perf_counter()
    flags = {name: _stage_flags(args, graph.stage(name)) for name in order}
    outcomes, failure = run_graph(job, order, forced, skip, flags, args.parallel)
    if failure is not None:
        name, code = failure
        # work worth keeping: a finished stage that used the media (pre-ner, say, did not)
        completed = [n for n in graph.downstream("demux") if n in order and read_lock(job.stage_dir(n)) is not None]
        if created and not completed:
            shutil.rmtree(job.root, ignore_errors=True)  # a job that never got anywhere leaves nothing behind
            print(f"error: stopped at {name}; nothing was kept", file=sys.stderr)
        else:
            print(f"error: stopped at {name}; fix the cause above and rerun the same command "
                  f"(finished stages are kept in {job.root})", file=sys.stderr)
        return code
    summary = summarize(job, order, outcomes, time.perf_counter() - started)
    atomic_write_json(job.root / "summary.json", summary)
    print_summary(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
