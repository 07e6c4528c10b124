"""The command line behind docker/compose.mk (make run, batch, stage, shell, images, models, wheelhouse).

    python3 -m host.containers run movie.mp4 [--profile auto|cpu|gpu] [--force asr] [--from subtitles]
    python3 -m host.containers batch a.mp4 b.mkv folder/ [--jobs 2]
    python3 -m host.containers stage asr --job <job-id> [-- --force --beam-size 1]
    python3 -m host.containers shell asr [--job <job-id>]
    python3 -m host.containers images [--profile cpu] [--missing-only] [--stages asr,mux]   # no --stages: and the api's
    python3 -m host.containers models [--model large-v3]
    python3 -m host.containers wheelhouse [--profile cpu]
    python3 -m host.containers profile | check

``EXECUTOR`` chooses what ``run`` does when docker cannot run the pipeline here
(not installed, engine down, no permission on its socket, no compose v2, no
BuildKit): ``auto`` (the default) says why in one line and runs the job
natively (host.runner in the venv make setup made); ``containers`` stops with
that line; ``native`` always runs natively. Every other command stops with the
line. Settings come from the environment (docker/compose.mk passes make
variables): DOCKER, PROFILE, IMAGE_PREFIX, IMAGE_TAG, BASE_IMAGE, CA_BUNDLE,
WHEELS, JOBS_DIR, MODEL_CACHE, SKIP_STAGES, FORCE_STAGES and every stage
setting (ASR_MODEL, ...), which reach only the stages that read them.
TMDB_API_KEY, TMDB_API_URL and TMDB_TIMEOUT_S are read here, when the job is
created (host/tmdb.py), and never passed to a container.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from host.containers import images, jobs
from host.containers.cli import Fail, detect_profile, docker_problem, require_docker, resolve_profile, say
from shared import graph
from shared import log as logging_setup
from shared.errors import PipelineError
from shared.fsio import atomic_write_json

EXECUTORS = ("auto", "containers", "native")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 -m host.containers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    profile_help = "auto (gpu when docker has the NVIDIA runtime), cpu or gpu; default $PROFILE or auto"

    p = sub.add_parser("run", help="one input through every stage")
    p.add_argument("input", type=Path)
    p.add_argument("--profile", default=None, help=profile_help)
    p.add_argument("--job-id", default=None)
    p.add_argument("--config", type=Path, default=None, help="JSON options per stage, kept in the job")
    p.add_argument("--metadata", type=Path, default=None, help="metadata.json for the job (title, cast, ...)")
    p.add_argument("--glossary", type=Path, default=None, help="glossary.tsv for the job")
    p.add_argument("--force", action="append", default=[], metavar="STAGE",
                   help="rerun STAGE even if fresh (repeatable; 'all' for every stage)")
    p.add_argument("--from", dest="from_stage", default=None, metavar="STAGE", help="rerun STAGE and every stage after it")
    p.add_argument("--until", default=None, metavar="STAGE", help="stop after STAGE")
    p.add_argument("--skip", action="append", default=[], metavar="STAGE",
                   help="switch off an optional stage (repeatable; adds to $SKIP_STAGES)")
    p.add_argument("--no-build", action="store_true", help="do not build missing images")
    p.add_argument("--result-json", type=Path, default=None, help=argparse.SUPPRESS)

    p = sub.add_parser("batch", help="many inputs, each its own job and compose project")
    p.add_argument("inputs", nargs="+")
    p.add_argument("--profile", default=None, help=profile_help)
    p.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS") or 2), help="inputs run at once")

    p = sub.add_parser("stage", help="one stage on one job")
    p.add_argument("stage")
    p.add_argument("--job", required=True)
    p.add_argument("--profile", default=None, help=profile_help)

    p = sub.add_parser("shell", help="a bash shell in a stage's image")
    p.add_argument("stage")
    p.add_argument("--job", default=None, help="with a job: its mounts and the stage's exact runtime")
    p.add_argument("--profile", default=None, help=profile_help)

    p = sub.add_parser("images", help="build the images of a profile")
    p.add_argument("--profile", default=None, help=profile_help)
    p.add_argument("--missing-only", action="store_true")
    p.add_argument("--stages", default=None, help="comma-separated stages (default: all, and the api's image)")

    p = sub.add_parser("models", help="download ASR_MODEL (and HF_MODELS) into the model cache (network)")
    p.add_argument("--model", default=None, help="the ASR model (default $ASR_MODEL or the asr default)")
    p.add_argument("--hf", default=os.environ.get("HF_MODELS", ""),
                   help="more Hugging Face repository ids, space- or comma-separated (default $HF_MODELS)")
    p.add_argument("--profile", default="cpu", help="which asr image runs the download (default cpu)")

    p = sub.add_parser("wheelhouse", help="every wheel the images install, into ./wheelhouse")
    p.add_argument("--profile", default="cpu")

    sub.add_parser("profile", help="print the profile auto would choose")
    sub.add_parser("check", help="say whether docker can run the pipeline here, and if not why (exit 1)")
    return parser


def native_command(args: argparse.Namespace) -> list[str]:
    """The native runner's command for the same job: the venv make setup made (NATIVE_PYTHON)."""
    python = os.environ.get("NATIVE_PYTHON") or str(images.REPO_ROOT / ".venv" / "bin" / "python")
    cmd = [python, "-m", "host.runner", str(args.input)]
    for flag, value in (("--job-id", args.job_id), ("--config", args.config), ("--metadata", args.metadata),
                        ("--glossary", args.glossary), ("--from", args.from_stage), ("--until", args.until)):
        if value is not None:
            cmd += [flag, str(value)]
    for flag, values in (("--force", args.force), ("--skip", args.skip)):
        for value in values:
            cmd += [flag, value]
    return cmd


def run_natively(args: argparse.Namespace, why: str) -> int:
    cmd = native_command(args)
    if not Path(cmd[0]).is_file():
        raise Fail(f"{why}, and the native runner's venv ({cmd[0]}) is missing: run make setup")
    return subprocess.run(cmd, cwd=images.REPO_ROOT, check=False).returncode


def run(args: argparse.Namespace) -> int:
    executor = (os.environ.get("EXECUTOR") or "auto").strip().lower()
    if executor not in EXECUTORS:
        raise Fail(f"EXECUTOR={executor!r}: use auto, containers or native", 2)
    if executor == "native":
        return run_natively(args, "EXECUTOR=native")
    problem = docker_problem(compose=True, build=not args.no_build)
    if problem is not None:
        if executor == "containers":
            raise Fail(problem.line())
        print(f"notice: {problem.cause}, so the stages run natively instead (EXECUTOR=containers refuses; "
              f"for containers: {problem.fix})", file=sys.stderr, flush=True)
        return run_natively(args, problem.cause)
    profile = resolve_profile(args.profile, tuple(images.PROFILES))
    try:
        result = jobs.run_job(args.input, profile, job_id=args.job_id, config=args.config, metadata=args.metadata,
                              glossary=args.glossary, force=args.force, from_stage=args.from_stage,
                              until=args.until, skip=args.skip, build=not args.no_build)
    except Fail as err:
        if args.result_json:
            atomic_write_json(args.result_json, {"error": str(err), "exit_code": err.code,
                                                 **({"job": err.job} if err.job else {})})
        raise
    if args.result_json:
        atomic_write_json(args.result_json, result)
    return 0


def dispatch(args: argparse.Namespace, passed: list[str]) -> int:
    if args.command == "run":
        return run(args)
    if args.command == "check":
        problem = docker_problem()
        print(f"docker: {problem.line()}" if problem else "docker: ready (engine, compose v2, BuildKit)")
        return 1 if problem else 0
    needs_compose = args.command in ("batch", "stage") or (args.command == "shell" and args.job)
    require_docker(compose=needs_compose, build=args.command != "profile")
    if args.command == "profile":
        print(detect_profile())
        return 0
    profile = resolve_profile(args.profile, tuple(images.PROFILES))
    if args.command == "batch":
        return jobs.batch(args.inputs, profile, args.jobs)
    if args.command == "stage":
        return jobs.run_stage(args.stage, args.job, profile, passed)
    if args.command == "shell":
        return jobs.shell(args.stage, args.job, profile)
    if args.command == "images":
        if args.stages:
            stages = graph.stage_list(args.stages)
            for name in stages:
                graph.stage(name)
        else:  # every stage not switched off
            skip = graph.parse_skip(os.environ.get("SKIP_STAGES"))
            stages = [s.name for s in graph.topological_order() if s.name not in skip]
        # the whole set includes the api's image (small, no torch): what a cluster pulls (docs/SCALE.md)
        built = images.ensure_images(profile, stages, missing_only=args.missing_only, api=not args.stages)
        for ref, seconds in built.items():
            say(f"built {ref} in {seconds:.0f} s")
        return 0
    if args.command == "models":
        extra = re.split(r"[\s,]+", args.hf.strip()) if args.hf.strip() else []
        return jobs.download_models(args.model, profile, extra)
    if args.command == "wheelhouse":
        return images.wheelhouse(profile, jobs.container_user(), jobs.make_writable)
    return 2


def main(argv: list[str] | None = None) -> int:
    logging_setup.configure()  # the host side's own lines (the TMDB fetch at job creation), secrets masked
    argv = list(sys.argv[1:] if argv is None else argv)
    # stage flags: stage asr --job X -- --force; elsewhere "--" ends the options (run -- -name.mp4)
    split = argv[:1] == ["stage"] and "--" in argv
    passed = argv[argv.index("--") + 1:] if split else []
    args = build_parser().parse_args(argv[:argv.index("--")] if split else argv)
    try:
        return dispatch(args, passed)
    except Fail as err:
        print(f"error: {logging_setup.mask_secrets(str(err))}", file=sys.stderr)
        return err.code
    except PipelineError as err:
        print(f"error: {logging_setup.mask_secrets(str(err))}", file=sys.stderr)
        return err.exit_code
    except subprocess.TimeoutExpired as err:
        print(f"error: {' '.join(map(str, err.cmd[:3]))} did not answer within {err.timeout:.0f} s", file=sys.stderr)
        return 1
    except OSError as err:  # docker vanished mid-run, a folder not writable, ...
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
