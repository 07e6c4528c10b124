"""Jobs through compose: a whole job, one stage, a shell, a batch, a model download.

A job runs as its own compose project (``-p <job id>``, so jobs run side by
side). The lifecycle around it is the one the native runner uses
(host/lifecycle.py): open the job, start the stages that run, read what each
did from its ``outcome.json``, finish with the summary. Compose itself only
starts containers: ``docker compose up --no-deps <the stages that run>`` orders
them by ``depends_on`` and never starts a stage whose producer failed; this
module then reads every container's exit code itself (compose's own exit code
says nothing about the last service, and ``--abort-on-container-exit`` hangs
in compose v2 when a dependency fails).
"""

from __future__ import annotations

import concurrent.futures
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from host import lifecycle
from host.containers.cli import Fail, docker, quiet, run, say
from host.containers.images import PROFILES, REPO_ROOT, ca_bundle, ensure_images, helpers, image_prefix, image_tag, stage_image
from host.stopping import GRACE_S, ProcessGroups, SignalLatch, Stopped, exit_status
from shared import graph, joblock
from shared.errors import PipelineError
from shared.fsio import atomic_write_json, read_json
from shared.job import Job, default_jobs_dir
from shared.models import WHISPER_AUTO, mt_repo_id, whisper_repo_id
from shared.offline import model_cache

CONTAINER_UID = 1000
MEDIA_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".mts", ".mpg", ".mpeg", ".wmv", ".flv",
                  ".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".wma"}
# A pyannote pipeline that loads its parts from their own repositories (make models fetches them too).
PIPELINE_PARTS = {"pyannote/speaker-diarization-3.1": ("pyannote/segmentation-3.0",
                                                       "pyannote/wespeaker-voxceleb-resnet34-LM")}


def compose_base(profile: str, project: str) -> list[str]:
    return [*docker(), "compose", "--project-directory", str(REPO_ROOT), "-p", project,
            "-f", str(REPO_ROOT / PROFILES[profile])]


def project_name(job_id: str) -> str:
    """A compose project name (lowercase letters, digits, '-', '_') for a job id."""
    name = re.sub(r"[^a-z0-9_-]+", "-", job_id.lower()).strip("-_")
    return name if name and name[0].isalnum() else f"job-{name}"


def container_user() -> tuple[int, int]:
    """Who the stage containers run as: PIPELINE_UID/PIPELINE_GID when set (the user's choice);
    else the host user; when that is root, the owner of an existing model cache (unless root
    owns it), else uid 1000. Never root (Fail)."""
    chosen = os.environ.get("PIPELINE_UID", "").strip()
    if chosen:
        try:
            uid = int(chosen)
            gid = int(os.environ.get("PIPELINE_GID", "").strip() or uid)
        except ValueError:
            raise Fail(f"PIPELINE_UID/PIPELINE_GID must be numbers, not {chosen!r}", 2) from None
        if uid == 0 or gid == 0:
            raise Fail("PIPELINE_UID/PIPELINE_GID 0: stage containers never run as root; give another uid", 2)
        return uid, gid
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    try:
        st = model_cache_dir().stat()
    except OSError:
        return CONTAINER_UID, CONTAINER_UID
    return (st.st_uid, st.st_gid) if st.st_uid != 0 and st.st_gid != 0 else (CONTAINER_UID, CONTAINER_UID)


def make_writable(paths: list[Path], uid: int, gid: int) -> None:
    """Job folders (this executor made them) must belong to the container user before it writes
    there. Only root needs to (and can) hand them over; anyone else already owns them. Never
    for the model cache: see :func:`prepare_cache`."""
    for top in paths:
        top.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            continue
        for root, dirs, files in os.walk(top):
            for name in [None, *dirs, *files]:
                path = Path(root) if name is None else Path(root) / name
                st = path.lstat()
                if (st.st_uid, st.st_gid) != (uid, gid):
                    os.lchown(path, uid, gid)


def prepare_cache(cache: Path, uid: int, gid: int) -> None:
    """The model cache for containers running as ``uid``: made when missing (root hands the new,
    empty folder to ``uid``), never chowned when it exists (it may be shared with other tools
    or users); one line when ``uid`` cannot write it (the models service seeds it)."""
    if not cache.exists():
        cache.mkdir(parents=True)
        if os.geteuid() == 0:
            os.chown(cache, uid, gid)
        return
    st = cache.stat()
    writable = (st.st_uid == uid and st.st_mode & 0o200) or (st.st_gid == gid and st.st_mode & 0o020) or st.st_mode & 0o002
    if not writable:
        owner = f"run with PIPELINE_UID={st.st_uid} PIPELINE_GID={st.st_gid}, or " if st.st_uid != 0 else ""
        raise Fail(f"the model cache {cache} belongs to uid {st.st_uid} and the containers run as uid {uid}, who "
                   f"cannot write it: {owner}give uid {uid} write access yourself (chown -R {uid}:{gid} {cache}; "
                   "it is never chowned for you)", 2)


def jobs_dir() -> Path:
    return default_jobs_dir().expanduser().absolute()


def model_cache_dir() -> Path:
    return model_cache().expanduser().absolute()


def compose_env(job: Job, skip: frozenset[str] | None = None, forced: set[str] | None = None,
                lock_token: str = "") -> dict[str, str]:
    """The variables docker-compose*.yml interpolates for one job; with ``skip`` and ``forced``,
    the job-wide settings saying which stages are switched off and which are forced (the
    lifecycle's plan; else the environment's, as given); with ``lock_token``, the token of the
    job lock this executor holds, so its stage containers work under it (shared/joblock.py)."""
    media = Path(job.input_record().path).resolve()
    uid, gid = container_user()
    env = {**os.environ, "JOB_ID": job.id, "INPUT_DIR": str(media.parent), "INPUT_NAME": media.name,
           "JOBS_DIR": str(job.root.parent), "MODEL_CACHE": str(model_cache_dir()),
           "PIPELINE_UID": str(uid), "PIPELINE_GID": str(gid),
           "IMAGE_PREFIX": image_prefix(), "IMAGE_TAG": image_tag()}
    if skip is not None:
        env["SKIP_STAGES"] = ",".join(sorted(skip))
    if forced is not None:
        env["FORCE_STAGES"] = ",".join(sorted(forced))
    env[joblock.TOKEN_ENV] = lock_token  # never another run's
    return env


def exit_codes(base: list[str], env: dict[str, str], services: list[str]) -> dict[str, int | None]:
    """Each service's exit code; None for one that never ran to its end."""
    text = quiet([*base, "ps", "-a", "--format", "json"], env=env).stdout.strip()
    rows = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines() if line.strip()]
    states = {row["Service"]: row for row in rows}
    return {name: states[name].get("ExitCode") if states.get(name, {}).get("State") == "exited" else None
            for name in services}


def save_logs(base: list[str], env: dict[str, str], services: list[str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for service in services:
        logs = quiet([*base, "logs", "--no-color", "--no-log-prefix", "--timestamps", service], env=env)
        (folder / f"{service}.log").write_text(logs.stdout + logs.stderr)


def last_error(log_path: Path) -> str:
    """A service's one-line reason ("error: ..."), from its saved log: for a container that
    failed before its stage could record an outcome (the models seeder, say)."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        text = line.split(" ", 1)[1] if line[:4].isdigit() and " " in line else line  # drop --timestamps
        if text.startswith("error: "):
            return text[len("error: "):].strip()
    return ""


def stop_project(base: list[str], env: dict[str, str]) -> None:
    """Stop every container of the job's compose project (SIGTERM, SIGKILL after the grace period):
    the executor is being stopped, and no stage may outlive its job lock."""
    quiet([*base, "stop", "--timeout", str(int(GRACE_S))], env=env)
    quiet([*base, "kill"], env=env)  # anything that ignored it


def container_codes(codes: dict[str, int | None], signum: int | None) -> dict[str, int | None]:
    """Exit codes as the lifecycle reads them: a container that exited 137 (128 + SIGKILL; the
    out-of-memory killer's mark) while nobody stopped the run is one killed by SIGKILL (-9)."""
    if signum is not None:
        return codes
    return {name: -signal.SIGKILL if code == 128 + signal.SIGKILL else code for name, code in codes.items()}


def run_job(media: Path, profile: str, *, job_id: str | None = None, config: Path | None = None,
            metadata: Path | None = None, glossary: Path | None = None, force: list[str] = (),
            from_stage: str | None = None, until: str | None = None, skip: list[str] = (),
            build: bool = True) -> dict[str, Any]:
    """One input through its stages in containers. Returns a result record; raises Fail."""
    try:
        run_ = lifecycle.open_job(media, jobs_dir=jobs_dir(), job_id=job_id, config=config, metadata=metadata,
                                  glossary=glossary, force=force, from_stage=from_stage, until=until, skip=skip,
                                  hold_lock=True)
    except PipelineError as err:
        raise Fail(str(err), err.exit_code) from None
    job, services = run_.job, run_.to_run
    if build:
        try:
            ensure_images(profile, services, tools=False)
        except Fail as err:
            lifecycle.discard(run_)
            if run_.lock:
                run_.lock.release()
            err.job = job.id
            raise
    uid, gid = container_user()
    make_writable([job.root], uid, gid)
    prepare_cache(model_cache_dir(), uid, gid)
    env = compose_env(job, run_.skip, run_.forced, run_.lock.token if run_.lock else "")
    base = compose_base(profile, project_name(job.id))
    listed = helpers(services) + services  # the models seeder first, when a stage that runs loads a Whisper model
    logs = job.root / "logs"
    interrupted = False
    latch = SignalLatch()
    with latch.installed():  # SIGTERM/SIGINT: the containers are stopped before the job lock goes
        run_.start()
        try:
            # The services listed, with --no-deps: compose would otherwise create a switched-off
            # stage too (an optional dependency), whose image need not exist. Among the listed
            # services depends_on still orders the run and stops it at a failure.
            with latch.raising():
                run([*base, "up", "--no-build", "--no-color", "--no-deps", *listed], env=env)
        except (KeyboardInterrupt, Stopped):
            interrupted = True
        finally:
            if interrupted:
                stop_project(base, env)
            codes = container_codes(exit_codes(base, env, listed), latch.signum)
            save_logs(base, env, [name for name in listed if codes[name] is not None], logs)
            quiet([*base, "down", "--remove-orphans", "--timeout", "5"], env=env)
        finished = lifecycle.finish_job(run_, codes, interrupted=interrupted, signum=latch.signum,
                                        reasons={name: last_error(logs / f"{name}.log") for name in listed},
                                        log_of=lambda name: logs / f"{name}.log", extra={"profile": profile})
        if run_.lock:
            run_.lock.release()  # a batch runs many jobs in one process: each lets its job go when done
    if finished.error:
        raise Fail(finished.error, finished.exit_code, job.id)
    return {"input": str(media), "job": job.id, "folder": str(job.root), "profile": profile,
            "wall_s": finished.summary["wall_s"], "outputs": finished.summary["outputs"]}


# --- batch -------------------------------------------------------------------------------------


def expand_inputs(items: list[str]) -> list[Path]:
    """Files as given; folders give their media files (sorted, not recursive)."""
    found: list[Path] = []
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES)
        else:
            found.append(path)
    unique: list[Path] = []
    for path in found:
        if path.absolute() not in [u.absolute() for u in unique]:
            unique.append(path)
    return unique


def batch(items: list[str], profile: str, workers: int) -> int:
    """Every input its own job and compose project, ``workers`` at a time. One failure
    does not stop the others. Prints a table; exit 1 if any input failed."""
    inputs = expand_inputs(items)
    if not inputs:
        raise Fail("no inputs: give media files or folders of them (INPUTS='a.mp4 b.mkv' or INPUTS=folder)", 2)
    ensure_images(profile, [s.name for s in graph.topological_order()
                            if s.name not in graph.parse_skip(os.environ.get("SKIP_STAGES"))], tools=False)
    logs = jobs_dir() / "batch-logs" / time.strftime("%Y%m%d-%H%M%S")
    logs.mkdir(parents=True, exist_ok=True)
    say(f"{len(inputs)} input(s), {workers} at a time, profile {profile}; logs in {logs}")
    lock = threading.Lock()

    def one(index: int, media: Path) -> dict[str, Any]:
        log_path = logs / f"{index:03d}-{re.sub(r'[^A-Za-z0-9._-]+', '-', media.name)}.log"
        result_path = log_path.with_suffix(".json")
        started = time.perf_counter()
        cmd = [sys.executable, "-m", "host.containers", "run", str(media), "--profile", profile,
               "--no-build", "--result-json", str(result_path)]
        with open(log_path, "w") as out:
            code = groups.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO_ROOT)
        if code is None:  # the batch was stopped before this input started
            return {"input": str(media), "exit_code": 128 + (groups.signum or 0), "log": "", "wall_s": 0.0,
                    "error": "not started: the batch was stopped"}
        code = exit_status(code)
        record = read_json(result_path) if result_path.is_file() else {}
        record.update({"input": str(media), "exit_code": code, "log": str(log_path),
                       "wall_s": round(time.perf_counter() - started, 1)})
        with lock:
            say(f"{'done' if code == 0 else 'FAILED'} {media} ({record['wall_s']} s)")
        return record

    # each input's run in its own process group; SIGTERM/SIGINT reach every one of them, and each
    # stops its containers and releases its job (no SIGKILL from here: that would orphan containers)
    groups = ProcessGroups(grace_s=math.inf)
    with groups.forwarding(), concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(lambda args: one(*args), enumerate(inputs, 1)))
    print_batch_table(results)
    atomic_write_json(logs / "summary.json", results)
    return 0 if all(r["exit_code"] == 0 for r in results) else 1


def print_batch_table(results: list[dict[str, Any]]) -> None:
    rows = [("input", "job", "status", "wall s", "subtitles / reason")]
    for r in results:
        if r["exit_code"] == 0:
            status = "ok"
            detail = ", ".join(Path(p).name for p in r.get("outputs", {}).get("subtitles", [])[:2]) or "-"
        else:
            status = f"failed ({r['exit_code']})"
            detail = (r.get("error") or "").splitlines()[0] if r.get("error") else f"see {r['log']}"
        rows.append((Path(r["input"]).name, r.get("job", "-"), status, f"{r['wall_s']:.1f}", detail))
    widths = [min(48, max(len(str(row[i])) for row in rows)) for i in range(4)]
    print()
    for row in rows:
        print("  ".join(str(cell)[:48].ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + str(row[4]))
    failed = sum(r["exit_code"] != 0 for r in results)
    print(f"\n{len(results) - failed} of {len(results)} input(s) done, {failed} failed", flush=True)


# --- one stage, a shell, models ------------------------------------------------------------------


def run_stage(stage: str, job_id: str, profile: str, flags: list[str]) -> int:
    """One stage on one job, in its image: exactly what ``make run`` starts for it, plus ``flags``."""
    spec = graph.stage(stage)
    ensure_images(profile, [spec.name], tools=False)
    job = Job.open(job_id, jobs_dir())
    uid, gid = container_user()
    make_writable([job.root], uid, gid)
    prepare_cache(model_cache_dir(), uid, gid)
    env = compose_env(job)
    base = compose_base(profile, project_name(job.id))
    for helper in helpers([spec.name]):  # the embedded models into the cache first
        code = run([*base, "run", "--rm", "--no-deps", helper], env=env)
        if code:
            return code
    return run([*base, "run", "--rm", "--no-deps", spec.name, "--job", job.id, *flags], env=env)


def shell(stage: str, job_id: str | None, profile: str) -> int:
    spec = graph.stage(stage)
    ensure_images(profile, [spec.name], tools=False)
    if job_id:  # the stage's exact runtime: read-only root, no network, the job's mounts
        job = Job.open(job_id, jobs_dir())
        base = compose_base(profile, project_name(job.id))
        return run([*base, "run", "--rm", "--no-deps", "--entrypoint", "bash", spec.name], env=compose_env(job))
    uid, gid = container_user()
    jobs_dir().mkdir(parents=True, exist_ok=True)
    prepare_cache(model_cache_dir(), uid, gid)
    image = stage_image(spec, profile).ref(image_prefix(), image_tag())
    tty = ["-it"] if sys.stdin.isatty() else ["-i"]
    return run([*docker(), "run", "--rm", *tty, "--user", f"{uid}:{gid}", "--network", "none", "-e", "HOME=/tmp",
                "-v", f"{jobs_dir()}:/jobs", "-v", f"{model_cache_dir()}:/shared-model-and-cache",
                "--entrypoint", "bash", image])


# what ASR_MODEL=auto would take from the cache first: English films, then any other language
AUTO_DOWNLOAD_EXAMPLES = "distil-large-v3 (English films) or ASR_MODEL=large-v3 (any language)"


def model_repos(model: str | None, extra_repos: list[str]) -> list[tuple[str, str]]:
    """(label, Hugging Face repository) of every model ``make models`` downloads: the ASR model
    (shared.models' names), DIARIZATION_MODEL and TRANSLATION_MODEL when they name repositories,
    and ``extra_repos``."""
    from shared.options.asr import AsrOptions

    repos: list[tuple[str, str]] = []
    name = model or os.environ.get("ASR_MODEL") or AsrOptions().model
    asr_auto = name == WHISPER_AUTO
    if asr_auto:
        say(f"ASR_MODEL=auto picks among the models in the cache (docs/FILM.md): name one to download, e.g. "
            f"make models ASR_MODEL={AUTO_DOWNLOAD_EXAMPLES}")
    elif Path(name).expanduser().is_dir():
        say(f"ASR_MODEL {name} is a local folder: nothing to download for it")
    else:
        repo = whisper_repo_id(name)
        if repo is None:
            from shared.models import WHISPER_REPOS

            raise Fail(f"unknown ASR model {name!r}: use one of {', '.join(sorted(WHISPER_REPOS))} or a repo id", 2)
        repos.append((name, repo))
    extra = list(extra_repos)
    diarization = os.environ.get("DIARIZATION_MODEL", "")
    if "/" in diarization and not Path(diarization).expanduser().exists():  # a pyannote pipeline repo
        extra += [diarization, *PIPELINE_PARTS.get(diarization, ())]
    for spec in re.split(r"[\s,]+", os.environ.get("TRANSLATION_MODEL", "").strip()):
        name = spec.split("=", 1)[-1]  # per language: en=whisper,es=<model>
        repo = mt_repo_id(name) if name and name not in ("auto", "whisper") else None
        if repo:
            extra.append(repo)
    if asr_auto and not extra:
        raise Fail(f"nothing to download: ASR_MODEL=auto names no one model; name it, e.g. "
                   f"make models ASR_MODEL={AUTO_DOWNLOAD_EXAMPLES}", 2)
    for repo in extra:
        if "/" not in repo:
            raise Fail(f"HF_MODELS takes Hugging Face repository ids (owner/name), not {repo!r}", 2)
        repos.append((repo, repo))
    return repos


def download_models(model: str | None, profile: str, extra_repos: list[str] | None = None) -> int:
    """Download the models into the model cache, in the asr image (huggingface_hub is there), with
    network. HF_TOKEN is passed by name at run time only: never in an image, a command line or a log."""
    repos = model_repos(model, extra_repos or [])
    if not repos:
        return 0
    ensure_images(profile, ["asr"], tools=False)
    image = stage_image(graph.stage("asr"), profile).ref(image_prefix(), image_tag())
    cache = model_cache_dir()
    uid, gid = container_user()
    prepare_cache(cache, uid, gid)
    base = [*docker(), "run", "--rm", "--user", f"{uid}:{gid}", "-e", "HOME=/tmp", "-e", "HF_HUB_OFFLINE=0",
            "-e", "HF_TOKEN", "-e", "HF_ENDPOINT", "-v", f"{cache}:/shared-model-and-cache",
            "-v", f"{REPO_ROOT / 'docker' / 'download_model.py'}:/opt/tools/download_model.py:ro"]
    ca = ca_bundle()
    if ca:
        base += ["-v", f"{ca}:/run/secrets/cacert:ro", "-e", "REQUESTS_CA_BUNDLE=/run/secrets/cacert",
                 "-e", "SSL_CERT_FILE=/run/secrets/cacert"]
    code = 0
    for label, repo in repos:
        say(f"downloading {label} ({repo}) into {cache}/huggingface"
            + (" with HF_TOKEN" if os.environ.get("HF_TOKEN") else ""))
        code = run([*base, "--entrypoint", "python", image, "/opt/tools/download_model.py", repo]) or code
    return code
