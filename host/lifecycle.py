"""One job lifecycle for every executor: open a job, finish it with a summary.

    run = open_job(media, force=["asr"], until="subtitles")   # create or reopen, plan
    run.start()
    ...the executor starts run.to_run in graph order: processes, containers, a queue...
    finished = finish_job(run, exit_codes)                    # outcomes, summary, keep or not

An executor decides *where* a stage runs; everything else is decided here, the
same way for all of them: which job (the input's content hash names it, so a
rerun reopens it), which stages run and which are forced (``--force``,
``--from``, ``FORCE_STAGES``), which are switched off (``SKIP_STAGES``,
``--skip``, and the stages with nothing to do with the job's settings), what
each stage did (its ``outcome.json``, never its output), the summary (printed
and written to ``<job>/summary.json``), and after a failure whether the job is
kept: a job this run created in which no stage that used the media finished
leaves nothing behind. Standard library only, like everything the host runs.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from host import report
from host.jobs import create_job
from host.stopping import exit_status, killed_reason, signal_name, signal_of
from shared import graph, joblock
from shared import log as logging_setup
from shared.errors import PipelineError
from shared.fsio import read_user_json
from shared.job import Job, default_jobs_dir, validate_config
from shared.lock import read_lock, read_outcome, write_outcome
from shared.stage import stages_off
from shared.summary import FINISHED, summarize, write_summary_file

log = logging_setup.get_logger("host.lifecycle")



def plan(force: list[str], from_stage: str | None, until: str | None) -> tuple[list[str], set[str]]:
    """The stages to run, in graph order, and those forced to rerun."""
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


def load_config(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    data = read_user_json(path, "config file")
    validate_config(data)  # before any job folder is made: a rejected config is never saved
    return data


@dataclass
class JobRun:
    """An opened job and the plan of this run."""

    job: Job
    created: bool  # this run made the job folder
    order: list[str]  # the stages of this run, graph order (--until applied)
    forced: set[str]
    skip: frozenset[str]  # switched off: by the user, or nothing to do with these settings
    user_skip: frozenset[str] = frozenset()
    lock: joblock.JobLock | None = None  # held for the whole run when the executor asked (open_job(hold_lock=True))
    opened_at: float = field(default_factory=time.time)  # outcomes older than this are another run's
    started: float = field(default_factory=time.perf_counter)

    @property
    def to_run(self) -> list[str]:
        """The stages an executor starts, in graph order."""
        return [name for name in self.order if name not in self.skip]

    def start(self) -> None:
        """The stages start now (the summary's wall time counts from here, not from image builds)."""
        self.started = time.perf_counter()


def open_job(media: Path, *, jobs_dir: Path | None = None, job_id: str | None = None, config: Path | None = None,
             metadata: Path | None = None, glossary: Path | None = None, force: Sequence[str] = (),
             from_stage: str | None = None, until: str | None = None, skip: Sequence[str] = (),
             flags_of: Callable[[graph.StageSpec], dict[str, Any]] | None = None, hold_lock: bool = False) -> JobRun:
    """Create (or reopen) the job for ``media`` and plan the run; print the job folder.
    ``flags_of(spec)``: option values given on the command line, when the executor takes them.
    ``hold_lock``: take the job lock (shared/joblock.py) before the job's files are written and
    keep it in ``JobRun.lock`` for the run (the native runner; its stages share it).
    Raises PipelineError (a job it created for nothing is removed again)."""
    order, forced = plan([*force, *graph.stage_list(os.environ.get("FORCE_STAGES"))], from_stage, until)
    user_skip = graph.parse_skip(",".join([os.environ.get("SKIP_STAGES", ""), *skip]))
    config_data = load_config(config)
    jobs_dir = (jobs_dir or default_jobs_dir()).expanduser().absolute()  # the stages run from another folder
    existing = set(jobs_dir.iterdir()) if jobs_dir.is_dir() else set()
    held: list[joblock.JobLock] = []
    job = create_job(media, jobs_dir=jobs_dir, job_id=job_id, config=config_data, metadata=metadata, glossary=glossary,
                     on_folder=(lambda root: held.append(joblock.acquire(root))) if hold_lock else None)
    created = job.root not in existing
    try:
        off = stages_off(job, user_skip, flags_of)
    except PipelineError:
        if created:
            shutil.rmtree(job.root, ignore_errors=True)
        for lock in held:
            lock.release()
        raise
    for name in sorted(off - user_skip):
        log.info("%s: nothing to do with these settings: skipped", name)
    print(f"job folder: {job.root}", flush=True)
    return JobRun(job, created, order, forced & set(order), off, user_skip, held[0] if held else None)


def worth_keeping(run: JobRun) -> bool:
    """A job is kept after a failure when it was there before, or a stage that used the media finished
    (pre-ner, say, does not count: it is redone in a second)."""
    return not run.created or any(
        name in run.order and read_lock(run.job.stage_dir(name)) is not None for name in graph.downstream("demux"))


def discard(run: JobRun) -> bool:
    """Remove the job if this run created it for nothing (a failure before any stage, say). True if removed."""
    if worth_keeping(run):
        return False
    shutil.rmtree(run.job.root, ignore_errors=True)
    return True


def stage_outcomes(run: JobRun, exit_codes: Mapping[str, int | None], signum: int | None = None) -> dict[str, dict[str, Any]]:
    """What each stage of the run did. ``exit_codes``: the stages the executor started, each with
    its exit status (None: it never finished; ``-n``: killed by signal n). A stage that exited 0
    says in its ``outcome.json`` whether it ran or was fresh; one that failed says why. ``signum``:
    the signal that stopped the run (the executor passed it on to its stages)."""
    outcomes: dict[str, dict[str, Any]] = {}
    for name in run.order:
        if name in run.skip:
            outcomes[name] = {"status": "skipped"}
            continue
        code = exit_codes.get(name)
        recorded = read_outcome(run.job.stage_dir(name), since=run.opened_at) or {}
        killed_by = signal_of(code)
        if name not in exit_codes or code is None:
            outcomes[name] = {"status": "not run"}
        elif signum is not None and code != 0:  # it stopped because the run was stopped
            outcomes[name] = {"status": f"stopped ({signal_name(signum)})",
                              "error": recorded.get("error") or f"{name} was stopped by {signal_name(signum)}"}
        elif killed_by is not None:
            outcomes[name] = {"status": f"killed ({signal_name(killed_by)})", "error": killed_reason(name, killed_by)}
        elif code == 0:
            outcomes[name] = recorded if recorded.get("status") in FINISHED else {"status": "done"}
        else:
            outcomes[name] = {"status": f"failed ({code})", "error": recorded.get("error", "")}
    return outcomes


def record_killed(run: JobRun, exit_codes: Mapping[str, int | None], outcomes: Mapping[str, dict[str, Any]]) -> None:
    """A stage killed by a signal could not record why: its ``outcome.json`` says it for it."""
    for name in (n for n in run.order if n in exit_codes):
        code = exit_codes[name]
        signum = signal_of(code)
        folder = run.job.stage_dir(name)
        if signum is None or name not in outcomes or read_outcome(folder, since=run.opened_at) or not folder.is_dir():
            continue
        try:
            write_outcome(folder, {"stage": name, "status": "failed", "error": outcomes[name].get("error", ""),
                                   "exit_code": exit_status(code), "signal": signal_name(signum)})  # type: ignore[arg-type]
        except OSError:
            pass  # the summary says it too


def print_summary(summary: dict[str, Any]) -> None:
    out = sys.stdout
    out.write(f"\njob {summary['job']}  ({summary['folder']})\n")
    if "duration_s" in summary:
        out.write(f"input {summary['input']}  duration {summary['duration_s']:.1f} s\n")
    width = max([len(s["stage"]) for s in summary["stages"]] + [5]) + 2
    status_width = max([len(s["status"]) + 1 for s in summary["stages"]] + [10])
    out.write(f"{'stage':<{width}}{'status':<{status_width}}{'wall s':>8}{'peak MB':>9}\n")
    for s in summary["stages"]:
        wall = f"{s['wall_s']:.1f}" if s["wall_s"] is not None else "-"
        peak = f"{s['peak_rss_mb']:.0f}" if s["peak_rss_mb"] is not None else "-"
        out.write(f"{s['stage']:<{width}}{s['status']:<{status_width}}{wall:>8}{peak:>9}\n")
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


def write_summary(job: Job, summary: dict[str, Any]) -> None:
    """``summary.json``, then ``report.html`` (host/report), whose path is printed; a report that
    cannot be written is one warning line, never a failed job."""
    write_summary_file(job, summary)
    path = report.write_or_warn(job.root, summary)
    if path is not None:
        print(f"report: {path}", flush=True)


@dataclass(frozen=True)
class Finished:
    """How a run ended: its exit status, its summary, and the one-line reason when it failed."""

    exit_code: int
    summary: dict[str, Any]
    error: str | None = None  # "stopped at asr: asr: ...\n  <what to do>"
    kept: bool = True  # False: the job folder was removed


def _first_failure(run: JobRun, exit_codes: Mapping[str, int | None]) -> tuple[str, int | None] | None:
    """The first stage (helpers such as the models seeder first, then graph order) that exited
    non-zero; else the first that was started and never finished."""
    names_in_order = [n for n in exit_codes if n not in run.order] + [n for n in run.order if n in exit_codes]
    for name in names_in_order:
        if exit_codes[name] not in (0, None):
            return name, exit_codes[name]
    return next(((n, None) for n in names_in_order if exit_codes[n] is None), None)


def finish_job(run: JobRun, exit_codes: Mapping[str, int | None], *, interrupted: bool = False,
               reasons: Mapping[str, str] | None = None, log_of: Callable[[str], Path] | None = None,
               extra: dict[str, Any] | None = None, signum: int | None = None) -> Finished:
    """Summarize the run, print and write the summary, and after a failure or an interrupt keep
    the job only if it is worth keeping. ``reasons``: a failed stage's one-line reason where its
    ``outcome.json`` has none (a container that died before the stage started, say);
    ``log_of(stage)``: where the executor kept a stage's log. ``signum``: the signal that stopped
    the run (SIGTERM, SIGINT): the summary says so (``stopped_by``), the exit status is ``128 + n``.
    A stage killed by a signal (``-n`` in ``exit_codes``) is named with it, in the summary and in
    its ``outcome.json``; the exit status is then ``128 + n`` too."""
    wall_s = time.perf_counter() - run.started
    outcomes = stage_outcomes(run, exit_codes, signum)
    record_killed(run, exit_codes, outcomes)
    summary = summarize(run.job, run.order, outcomes, wall_s)
    summary.update(extra or {})
    interrupted = interrupted or signum is not None
    if signum is not None:
        summary["stopped_by"] = signal_name(signum)
    for entry in summary["stages"]:
        if outcomes.get(entry["stage"], {}).get("error") and entry["status"].startswith(("killed", "stopped")):
            entry["error"] = outcomes[entry["stage"]]["error"]
    failure = _first_failure(run, exit_codes)
    if failure or interrupted:
        summary["outputs"] = {}  # what is there is an older run's
    print_summary(summary)
    if not failure and not interrupted:
        write_summary(run.job, summary)
        return Finished(0, summary)
    kept = not discard(run)
    if kept:
        write_summary(run.job, summary)
    again = f"rerun the same command to finish (finished stages are kept in {run.job.root})"
    if signum is not None:
        said = f"stopped by {signal_name(signum)}"
        return Finished(128 + signum, summary, f"{said}; {again}" if kept else f"{said}; nothing was kept", kept)
    if interrupted and (failure is None or failure[1] is None):
        return Finished(130, summary, f"interrupted; {again}" if kept else "interrupted; nothing was kept", kept)
    assert failure is not None  # not interrupted, and a failure, else it returned above
    name, code = failure
    reason = (outcomes.get(name, {}).get("error") or (reasons or {}).get(name)
              or (killed_reason(name, -code) if isinstance(code, int) and code < 0 else None)
              or (f"exit code {code}" if code is not None else "it never started"))
    if kept:
        where = (f"its log: {log_of(name)}; " if log_of else "") + f"fix the cause and {again}"
    else:
        where = "nothing was kept; fix the cause and rerun the same command"
    status = exit_status(code) if isinstance(code, int) and code != 0 else 1
    return Finished(status, summary, f"stopped at {name}: {reason}\n  {where}", kept)
