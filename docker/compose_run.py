"""Run the pipeline in containers: one image per stage, one compose project per job.

The host side of docker/compose.mk, standard library only (the host's plain
``python3`` runs it; no venv needed):

    python3 docker/compose_run.py run movie.mp4 [--profile auto|cpu|gpu]
    python3 docker/compose_run.py batch a.mp4 b.mkv folder/ [--jobs 2]
    python3 docker/compose_run.py stage asr --job <job-id> [-- --force --beam-size 1]
    python3 docker/compose_run.py shell asr [--job <job-id>]
    python3 docker/compose_run.py images [--profile cpu] [--missing-only]
    python3 docker/compose_run.py models [--model large-v3]
    python3 docker/compose_run.py wheelhouse [--profile cpu]
    python3 docker/compose_run.py profile

``run`` creates (or reopens) the job on the host with :mod:`shared.job`, builds
the images that are missing, runs ``docker compose up`` for the job's own
project (``-p <job id>``, so jobs run side by side), then checks every stage
container's exit code itself and prints the native runner's summary.

Settings come from the environment (docker/compose.mk passes make variables):
DOCKER (the docker CLI), IMAGE_PREFIX, IMAGE_TAG, BASE_IMAGE (the OS image the
base builds FROM), CA_BUNDLE (a CA file given to builds as the ``cacert``
secret), WHEELS (index or wheelhouse), JOBS_DIR, MODEL_CACHE, SKIP_STAGES and
every stage setting (ASR_MODEL, ...), which compose passes to the stages.
TMDB_API_KEY, TMDB_API_URL and TMDB_TIMEOUT_S are read here, when the job is
created (host/tmdb.py), and never passed to a container.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_compose  # noqa: E402  (docker/gen_compose.py, beside this file)

sys.path.pop(0)

from shared import graph, log as logging_setup  # noqa: E402
from shared.errors import PipelineError  # noqa: E402
from shared.fsio import atomic_write_json, read_json  # noqa: E402
from shared.job import Job, default_jobs_dir  # noqa: E402
from host.jobs import create_job
from shared.lock import read_lock  # noqa: E402

DEFAULT_BASE_IMAGE = "python:3.11-slim-bookworm"
LOCAL_BASE_IMAGE = "local/debian:bookworm"  # made by: make base-image
DEFAULT_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
CONTAINER_UID = 1000
MEDIA_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".mts", ".mpg", ".mpeg", ".wmv", ".flv",
                  ".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".wma"}


class Fail(Exception):
    """A one-line reason for the user, and the exit code."""

    def __init__(self, message: str, code: int = 1, job: str | None = None):
        super().__init__(message)
        self.code = code
        self.job = job


def say(message: str) -> None:
    print(f"[containers] {message}", file=sys.stderr, flush=True)


# --- docker ------------------------------------------------------------------------------------


def docker() -> list[str]:
    return shlex.split(os.environ.get("DOCKER") or "docker")


def image_prefix() -> str:
    return os.environ.get("IMAGE_PREFIX") or "whisperx-pipeline"


def image_tag() -> str:
    return os.environ.get("IMAGE_TAG") or "latest"


def quiet(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def _client_major(cli: list[str]) -> int:
    out = quiet([*cli, "version", "--format", "{{.Client.Version}}"]).stdout.strip()
    match = re.match(r"(\d+)\.", out)
    return int(match.group(1)) if match else 0


@functools.lru_cache(maxsize=1)
def build_command() -> tuple[list[str], dict[str, str]]:
    """How to run a BuildKit build here: ``docker buildx build --load`` when the buildx
    plugin is installed; else ``DOCKER_BUILDKIT=1 docker build``, which only CLIs older
    than 23 still do themselves (Debian's docker.io 20.10 at /usr/bin/docker)."""
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    candidates = [docker()]
    if not os.environ.get("DOCKER") and Path("/usr/bin/docker").is_file():
        candidates.append(["/usr/bin/docker"])
    for cli in candidates:
        if quiet([*cli, "buildx", "version"]).returncode == 0:
            return [*cli, "buildx", "build", "--load"], env
        if 0 < _client_major(cli) < 23:
            if cli != candidates[0]:
                say(f"{candidates[0][0]} has no buildx plugin: building with {cli[0]} (BuildKit, no plugin needed)")
            return [*cli, "build"], env
    raise Fail("cannot build with BuildKit: install the docker buildx plugin (docker-buildx-plugin or "
               "docker-buildx), or set DOCKER to a docker CLI older than 23 (Debian's docker.io)")


def compose_base(profile: str, project: str) -> list[str]:
    return [*docker(), "compose", "--project-directory", str(REPO_ROOT), "-p", project,
            "-f", str(REPO_ROOT / gen_compose.PROFILES[profile])]


def detect_profile() -> str:
    """gpu when the docker engine has the NVIDIA runtime, else cpu."""
    result = quiet([*docker(), "info", "--format", "{{json .Runtimes}}"])
    if result.returncode != 0:
        raise Fail(f"docker is not usable: {(result.stderr or result.stdout).strip().splitlines()[-1:]}"
                   " (is the daemon running, and may this user use it?)")
    return "gpu" if "nvidia" in result.stdout else "cpu"


def resolve_profile(profile: str | None) -> str:
    profile = (profile or os.environ.get("PROFILE") or "auto").lower()
    if profile == "auto":
        chosen = detect_profile()
        say(f"profile {chosen} ({'the NVIDIA runtime is there' if chosen == 'gpu' else 'no NVIDIA runtime in docker info'};"
            " PROFILE=cpu|gpu overrides)")
        return chosen
    if profile not in gen_compose.PROFILES:
        raise Fail(f"unknown PROFILE {profile!r}: use auto, cpu or gpu", 2)
    return profile


def image_exists(ref: str) -> bool:
    return quiet([*docker(), "image", "inspect", ref]).returncode == 0


# --- images ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def os_base_image() -> str:
    """The image the base Dockerfile starts FROM: BASE_IMAGE, else the public Python image,
    else the locally made Debian (make base-image) when the public one is not here."""
    chosen = os.environ.get("BASE_IMAGE")
    if chosen:
        return chosen
    if not image_exists(DEFAULT_BASE_IMAGE) and image_exists(LOCAL_BASE_IMAGE):
        say(f"{DEFAULT_BASE_IMAGE} is not here but {LOCAL_BASE_IMAGE} is: building from it (BASE_IMAGE overrides)")
        return LOCAL_BASE_IMAGE
    return DEFAULT_BASE_IMAGE


def ca_bundle() -> str | None:
    value = os.environ.get("CA_BUNDLE")
    if value is None:
        value = DEFAULT_CA_BUNDLE if Path(DEFAULT_CA_BUNDLE).is_file() else ""
    if value and not Path(value).is_file():
        raise Fail(f"CA_BUNDLE={value} is not a file", 2)
    return value or None


def base_ref(image: gen_compose.Image) -> str:
    """The image ``image`` builds FROM: the OS base for the base Dockerfile, else the
    project's base-runtime or base-ml (same accelerator flavour)."""
    if image.base is None:
        return os_base_image()
    suffix = image.tag_suffix if image.base == "base-ml" else ""
    return f"{image_prefix()}/{image.base}:{image_tag()}{suffix}"


def build_args(image: gen_compose.Image, wheels: str) -> list[str]:
    args = ["--build-arg", f"BASE_IMAGE={base_ref(image)}", "--build-arg", f"WHEELS={wheels}"]
    for key, value in image.build_args:
        args += ["--build-arg", f"{key}={value}"]
    if image.name == "base-ml":
        index = torch_index_url(image.tag_suffix == "-cpu")
        if index is not None:
            args += ["--build-arg", f"TORCH_INDEX_URL={index}"]
    return args


PYTORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu/"


def torch_index_url(cpu: bool) -> str | None:
    """TORCH_INDEX_URL when set. Else, for the CPU flavour, None (the Dockerfile uses
    PyTorch's CPU index) when that index answers, or "" (PyPI only) when it does not:
    PyPI's torch is the CUDA build, which also runs on CPU, only bigger."""
    if "TORCH_INDEX_URL" in os.environ:
        return os.environ["TORCH_INDEX_URL"]
    if not cpu:
        return None
    import urllib.request

    try:
        urllib.request.urlopen(urllib.request.Request(PYTORCH_CPU_INDEX, method="HEAD"), timeout=10).close()
        return None
    except OSError:
        say(f"{PYTORCH_CPU_INDEX} does not answer: base-ml (cpu) takes torch from PyPI, the CUDA build "
            "(runs on CPU, about 6 GB bigger); set TORCH_INDEX_URL to a reachable index to choose")
        return ""


SOURCE_LABEL = "org.whisperx-pipeline.source"


def image_label(ref: str) -> str | None:
    result = quiet([*docker(), "image", "inspect", "--format", f'{{{{index .Config.Labels "{SOURCE_LABEL}"}}}}', ref])
    return result.stdout.strip() if result.returncode == 0 else None


def _instructions(path: Path) -> list[tuple[str, str]]:
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(line.split(None, 1)[0].upper(), (line.split(None, 1) + [""])[1])
            for line in text.splitlines() if line.strip()]


def dockerfile_sources(path: Path, target: str | None) -> list[str]:
    """The context paths a Dockerfile target copies (its own stage and the stages it
    starts FROM; not the wheels stages, which the WHEELS setting covers)."""
    stages: list[tuple[str | None, str, list[str]]] = []
    for op, args in _instructions(path):
        if op == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) >= 3 and parts[1].lower() == "as" else None
            stages.append((name, parts[0], []))
        elif op == "COPY" and stages and "--from" not in args:
            stages[-1][2].extend([a for a in args.split() if not a.startswith("--")][:-1])
    by_name = {name: (parent, copies) for name, parent, copies in stages if name}
    current = by_name[target] if target else (stages[-1][1], stages[-1][2])
    sources = list(current[1])
    while current[0] in by_name:
        current = by_name[current[0]]
        sources = current[1] + sources
    return sources


def _hash_path(digest, path: Path) -> None:
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
        and ".partial" not in p.parts and p.suffix not in (".pyc", ".pyo"))
    for file in files:
        digest.update(str(file.relative_to(REPO_ROOT)).encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())


def source_hash(image: gen_compose.Image, wheels: str, memo: dict[str, str]) -> str:
    """What an image is built from, as one hash; ``memo`` holds the bases' hashes."""
    key = f"{image.name}{image.tag_suffix}"
    if key in memo:
        return memo[key]
    digest = hashlib.sha256()
    dockerfile = REPO_ROOT / image.dockerfile
    for path in (dockerfile, dockerfile.with_name("Dockerfile.dockerignore")):
        if path.is_file():
            _hash_path(digest, path)
    for source in dockerfile_sources(dockerfile, image.target):
        if (REPO_ROOT / source).exists():
            _hash_path(digest, REPO_ROOT / source)
    # TORCH_INDEX_URL is where torch comes from, not what: changing it alone does not make
    # base-ml out of date (make images rebuilds it).
    digest.update(json.dumps([image.target, image.build_args, wheels]).encode())
    if wheels == "wheelhouse":
        digest.update(" ".join(sorted(p.name for p in (REPO_ROOT / "wheelhouse").glob("*.whl"))).encode())
    if image.base is None:
        base = os_base_image()
        base_id = quiet([*docker(), "image", "inspect", "--format", "{{.Id}}", base]).stdout.strip()
        digest.update(f"{base}@{base_id}".encode())
        if image.target == "base":
            digest.update(source_hash(gen_compose.Image("base-runtime", image.dockerfile, "runtime", "", None),
                                      wheels, memo).encode())
    else:
        parent = next(i for i in gen_compose.images("gpu" if image.tag_suffix == "-cuda" else "cpu")
                      if i.name == image.base)
        digest.update(source_hash(parent, wheels, memo).encode())
    memo[key] = digest.hexdigest()[:24]
    return memo[key]


def build_image(image: gen_compose.Image, wheels: str, source: str) -> float:
    cmd, env = build_command()
    ref = image.ref(image_prefix(), image_tag())
    full = [*cmd, "-f", str(REPO_ROOT / image.dockerfile), *build_args(image, wheels), "-t", ref,
            "--label", f"{SOURCE_LABEL}={source}"]
    if image.target:
        full += ["--target", image.target]
    ca = ca_bundle()
    if ca:
        full += ["--secret", f"id=cacert,src={ca}"]
    full.append(str(REPO_ROOT))
    say(f"building {ref}")
    started = time.perf_counter()
    if subprocess.run(full, env=env).returncode != 0:
        raise Fail(f"building {ref} failed (the build output above says why)")
    return time.perf_counter() - started


def check_buildable(image: gen_compose.Image) -> None:
    """A stage declared in shared/graph.py needs its Dockerfile and its package."""
    if not (REPO_ROOT / image.dockerfile).is_file():
        raise Fail(f"stage {image.name} is in shared/graph.py but has no {image.dockerfile}: add one "
                   f"(docs/CONTAINERS.md, 'Adding a stage'), or switch the stage off with SKIP_STAGES={image.name}")
    spec = next((s for s in graph.STAGES if s.name == image.name), None)
    if spec is not None:
        main = REPO_ROOT / Path(*spec.module.split(".")) / "__main__.py"
        if not main.is_file():
            raise Fail(f"stage {spec.name} is in shared/graph.py but {main.relative_to(REPO_ROOT)} is missing")


def ensure_images(profile: str, stages: list[str] | None = None, missing_only: bool = True,
                  wheels: str | None = None) -> dict[str, float]:
    """Build the images of a profile in order (bases first). With ``missing_only``, only
    those missing or out of date: an image records a hash of everything it is built from
    (its Dockerfile, the files it copies, build arguments, its base's hash) in a label,
    and is rebuilt when that hash changes. Returns seconds per image built."""
    wheels = wheels or os.environ.get("WHEELS") or "index"
    if wheels not in ("index", "wheelhouse"):
        raise Fail(f"WHEELS must be index or wheelhouse, not {wheels!r}", 2)
    if wheels == "wheelhouse" and not any((REPO_ROOT / "wheelhouse").glob("*.whl")):
        raise Fail("WHEELS=wheelhouse but ./wheelhouse has no wheels: run make wheelhouse first", 2)
    wanted = gen_compose.images(profile, stages)
    for image in wanted:
        check_buildable(image)
    sources: dict[str, str] = {}
    timings = {}
    for image in wanted:
        ref = image.ref(image_prefix(), image_tag())
        source = source_hash(image, wheels, sources)
        if missing_only and image_label(ref) == source:
            continue
        if missing_only:
            say(f"{ref} is {'out of date' if image_exists(ref) else 'missing'}")
        timings[ref] = build_image(image, wheels, source)
    if timings:  # the images just replaced, left untagged: only this project's (by label), only unused ones
        quiet([*docker(), "image", "prune", "-f", "--filter", f"label={SOURCE_LABEL}"])
    return timings


# --- jobs --------------------------------------------------------------------------------------


def project_name(job_id: str) -> str:
    """A compose project name (lowercase letters, digits, '-', '_') for a job id."""
    name = re.sub(r"[^a-z0-9_-]+", "-", job_id.lower()).strip("-_")
    return name if name and name[0].isalnum() else f"job-{name}"


def container_user() -> tuple[int, int]:
    """Who the stage containers run as: the host user, or uid 1000 when that is root."""
    if os.geteuid() == 0:
        return CONTAINER_UID, CONTAINER_UID
    return os.getuid(), os.getgid()


def make_writable(paths: list[Path], uid: int, gid: int) -> None:
    """Bind-mounted folders must belong to the container user before it writes there.
    Only root needs to (and can) hand them over; anyone else already owns them."""
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


def jobs_dir() -> Path:
    return default_jobs_dir().expanduser().absolute()


def model_cache_dir() -> Path:
    return Path(os.environ.get("MODEL_CACHE") or REPO_ROOT / "shared-model-and-cache").expanduser().absolute()


def compose_env(job: Job) -> dict[str, str]:
    """The variables docker-compose*.yml interpolates for one job."""
    media = Path(job.input_record().path).resolve()
    uid, gid = container_user()
    return {**os.environ, "JOB_ID": job.id, "INPUT_DIR": str(media.parent), "INPUT_NAME": media.name,
            "JOBS_DIR": str(job.root.parent), "MODEL_CACHE": str(model_cache_dir()),
            "PIPELINE_UID": str(uid), "PIPELINE_GID": str(gid),
            "IMAGE_PREFIX": image_prefix(), "IMAGE_TAG": image_tag()}


def service_states(base: list[str], env: dict[str, str]) -> dict[str, dict[str, Any]]:
    out = quiet([*base, "ps", "-a", "--format", "json"], env=env).stdout
    states: dict[str, dict[str, Any]] = {}
    text = out.strip()
    rows = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines() if line.strip()]
    for row in rows:
        states[row["Service"]] = row
    return states


def stage_outcome(base: list[str], env: dict[str, str], service: str) -> dict[str, Any]:
    """The JSON line a stage prints on success ({"stage": ..., "status": "ran"|"fresh", ...})."""
    logs = quiet([*base, "logs", "--no-color", "--no-log-prefix", service], env=env).stdout
    for line in reversed(logs.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict) and data.get("stage") == service:
                return data
    return {}


def save_logs(base: list[str], env: dict[str, str], services: list[str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for service in services:
        logs = quiet([*base, "logs", "--no-color", "--no-log-prefix", "--timestamps", service], env=env)
        (folder / f"{service}.log").write_text(logs.stdout + logs.stderr)


def last_error(log_path: Path) -> str:
    """The stage's one-line reason ("error: asr: ..."), from its saved log."""
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        text = line.split(" ", 1)[1] if line[:4].isdigit() and " " in line else line  # drop --timestamps
        if text.startswith("error: "):
            return text[len("error: "):].strip()
    return ""


def run_job(media: Path, profile: str, job_id: str | None = None, config: Path | None = None,
            metadata: Path | None = None, glossary: Path | None = None, build: bool = True) -> dict[str, Any]:
    """One input through every stage in containers. Returns a result record; raises Fail."""
    from host.runner import print_summary, summarize

    from shared.stage import stages_off

    try:
        user_skip = graph.parse_skip(os.environ.get("SKIP_STAGES"))
        config_data = read_json(config) if config else None
    except PipelineError as err:
        raise Fail(str(err), err.exit_code) from None
    except (OSError, ValueError) as err:
        raise Fail(f"cannot read config {config}: {err}", 2) from None
    try:
        existing = set(jobs_dir().iterdir()) if jobs_dir().is_dir() else set()
        job = create_job(media, jobs_dir=jobs_dir(), job_id=job_id, config=config_data,
                         metadata=metadata, glossary=glossary)
        # As the native runner: SKIP_STAGES plus the stages with nothing to do with these
        # settings (translation without TARGET_LANGUAGES, and what needs only their outputs).
        skip = stages_off(job, user_skip)
    except PipelineError as err:
        raise Fail(str(err), err.exit_code) from None
    created = job.root not in existing
    order = [s.name for s in graph.topological_order()]
    services = [name for name in order if name not in skip]
    for name in sorted(skip - user_skip):
        say(f"{name}: nothing to do with these settings: skipped")
    if build:
        try:
            ensure_images(profile, services)
        except Fail:
            if created:
                shutil.rmtree(job.root, ignore_errors=True)
            raise
    print(f"job folder: {job.root}", flush=True)
    uid, gid = container_user()
    make_writable([job.root, model_cache_dir()], uid, gid)
    env = {**compose_env(job), "SKIP_STAGES": ",".join(sorted(skip))}
    base = compose_base(profile, project_name(job.id))
    # the models seeder first (when a stage that runs loads a Whisper model), then the stages
    listed = gen_compose.helpers(services) + services
    started = time.perf_counter()
    interrupted = False
    try:
        # The services listed, with --no-deps: compose would otherwise create a switched-off
        # stage too (an optional dependency), whose image need not exist. Among the listed
        # services depends_on still orders the run and stops it at a failure.
        subprocess.run([*base, "up", "--no-build", "--no-color", "--no-deps", *listed], env=env)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        states = service_states(base, env)
        save_logs(base, env, [s for s in listed if s in states], job.root / "logs")
        outcomes = {name: stage_outcome(base, env, name) for name in services if name in states}
        quiet([*base, "down", "--remove-orphans", "--timeout", "5"], env=env)
    wall_s = time.perf_counter() - started
    for name in skip:
        outcomes[name] = {"status": "skipped"}
    exited_badly, never_ran = [], []
    for name in listed:
        state = states.get(name)
        if state is None or state.get("State") != "exited":
            never_ran.append((name, None))
            outcomes.setdefault(name, {"status": "not run"})
        elif state.get("ExitCode") != 0:
            exited_badly.append((name, state.get("ExitCode")))
            outcomes[name] = {"status": f"failed ({state.get('ExitCode')})"}
    failed = (exited_badly or never_ran or [None])[0]  # the first stage that failed, in graph order
    result: dict[str, Any] = {"input": str(media), "job": job.id, "folder": str(job.root), "profile": profile,
                              "wall_s": round(wall_s, 1)}
    summary = summarize(job, order, outcomes, wall_s)
    summary["profile"] = profile
    for row in summary["stages"]:  # timings of a stage that did not finish now would be an older run's
        if row["status"] not in ("ran", "fresh"):
            row.update(wall_s=None, peak_rss_mb=None, notes=[])
    if failed or interrupted:
        summary["outputs"] = {}
    atomic_write_json(job.root / "summary.json", summary)
    print_summary(summary)
    kept = any(read_lock(job.stage_dir(name)) is not None for name in services)
    reasons = {name: last_error(job.root / "logs" / f"{name}.log") for name in listed}
    if (interrupted or failed) and created and not kept:
        shutil.rmtree(job.root, ignore_errors=True)  # like the native runner: a job that got nowhere leaves nothing
    if interrupted:
        raise Fail(f"interrupted; rerun the same command to finish (finished stages are kept in {job.root})", 130, job.id)
    if failed:
        name, code = failed
        log_path = job.root / "logs" / f"{name}.log"
        reason = reasons.get(name) or (f"exit code {code}" if code is not None else "it never started")
        where = (f"its log: {log_path}; fix the cause and rerun the same command (finished stages are kept in "
                 f"{job.root})") if kept else "nothing was kept; fix the cause and rerun the same command"
        raise Fail(f"stopped at {name}: {reason}\n  {where}", code if isinstance(code, int) and code > 0 else 1, job.id)
    result["outputs"] = summary.get("outputs", {})
    return result


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
                            if s.name not in graph.parse_skip(os.environ.get("SKIP_STAGES"))])
    logs = jobs_dir() / "batch-logs" / time.strftime("%Y%m%d-%H%M%S")
    logs.mkdir(parents=True, exist_ok=True)
    say(f"{len(inputs)} input(s), {workers} at a time, profile {profile}; logs in {logs}")
    lock = threading.Lock()

    def one(index: int, media: Path) -> dict[str, Any]:
        log_path = logs / f"{index:03d}-{re.sub(r'[^A-Za-z0-9._-]+', '-', media.name)}.log"
        result_path = log_path.with_suffix(".json")
        started = time.perf_counter()
        cmd = [sys.executable, str(Path(__file__).resolve()), "run", str(media), "--profile", profile,
               "--no-build", "--result-json", str(result_path)]
        with open(log_path, "w") as out:
            code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
        record = read_json(result_path) if result_path.is_file() else {}
        record.update({"input": str(media), "exit_code": code, "log": str(log_path),
                       "wall_s": round(time.perf_counter() - started, 1)})
        with lock:
            say(f"{'done' if code == 0 else 'FAILED'} {media} ({record['wall_s']} s)")
        return record

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
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


# --- one stage, a shell, models, wheelhouse ------------------------------------------------------


def run_stage(stage: str, job_id: str, profile: str, flags: list[str]) -> int:
    spec = graph.stage(stage)
    ensure_images(profile, [spec.name])
    job = Job.open(job_id, jobs_dir())
    uid, gid = container_user()
    make_writable([job.root, model_cache_dir()], uid, gid)
    base = compose_base(profile, project_name(job.id))
    for helper in gen_compose.helpers([spec.name]):  # the embedded models into the cache first
        code = subprocess.run([*base, "run", "--rm", "--no-deps", helper], env=compose_env(job)).returncode
        if code:
            return code
    cmd = [*base, "run", "--rm", "--no-deps", spec.name, "--job", job.id, *flags]
    return subprocess.run(cmd, env=compose_env(job)).returncode


def shell(stage: str, job_id: str | None, profile: str) -> int:
    spec = graph.stage(stage)
    ensure_images(profile, [spec.name])
    if job_id:  # the stage's exact runtime: read-only root, no network, the job's mounts
        job = Job.open(job_id, jobs_dir())
        base = compose_base(profile, project_name(job.id))
        return subprocess.run([*base, "run", "--rm", "--no-deps", "--entrypoint", "bash", spec.name],
                              env=compose_env(job)).returncode
    uid, gid = container_user()
    make_writable([jobs_dir(), model_cache_dir()], uid, gid)
    image = gen_compose.stage_image(spec, profile).ref(image_prefix(), image_tag())
    tty = ["-it"] if sys.stdin.isatty() else ["-i"]
    return subprocess.run([*docker(), "run", "--rm", *tty, "--user", f"{uid}:{gid}", "--network", "none", "-e", "HOME=/tmp",
                           "-v", f"{jobs_dir()}:/jobs", "-v", f"{model_cache_dir()}:/shared-model-and-cache",
                           "--entrypoint", "bash", image]).returncode


def download_models(model: str | None, profile: str, extra_repos: list[str] | None = None) -> int:
    """Download the ASR model (and any other Hugging Face repositories, ``extra_repos``)
    into the model cache, in the asr image (huggingface_hub is there), with network.
    HF_TOKEN is passed by name at run time only: never in an image, a command line or a log."""
    from shared.models import WHISPER_REPOS
    from shared.options.asr import AsrOptions

    repos: list[tuple[str, str]] = []
    name = model or os.environ.get("ASR_MODEL") or AsrOptions().model
    if Path(name).expanduser().is_dir():
        say(f"ASR_MODEL {name} is a local folder: nothing to download for it")
    else:
        repo = WHISPER_REPOS.get(name, name if "/" in name else None)
        if repo is None:
            raise Fail(f"unknown ASR model {name!r}: use one of {', '.join(sorted(WHISPER_REPOS))} or a repo id", 2)
        repos.append((name, repo))
    extra_repos = list(extra_repos or [])
    diarization = os.environ.get("DIARIZATION_MODEL", "")
    if "/" in diarization and not Path(diarization).expanduser().exists():
        # a pyannote pipeline repo; 3.1 loads its segmentation and embedding from their own repos
        extra_repos.append(diarization)
        if diarization.endswith("speaker-diarization-3.1"):
            extra_repos += ["pyannote/segmentation-3.0", "pyannote/wespeaker-voxceleb-resnet34-LM"]
    from shared.models import mt_repo_id

    for spec in re.split(r"[\s,]+", os.environ.get("TRANSLATION_MODEL", "").strip()):
        name = spec.split("=", 1)[-1]  # per language: en=whisper,es=<model>
        repo = mt_repo_id(name) if name and name not in ("auto", "whisper") else None
        if repo:
            extra_repos.append(repo)
    for repo in extra_repos:
        if "/" not in repo:
            raise Fail(f"HF_MODELS takes Hugging Face repository ids (owner/name), not {repo!r}", 2)
        repos.append((repo, repo))
    if not repos:
        return 0
    ensure_images(profile, ["asr"])
    asr = next(s for s in graph.STAGES if s.name == "asr")
    image = gen_compose.stage_image(asr, profile).ref(image_prefix(), image_tag())
    cache = model_cache_dir()
    uid, gid = container_user()
    make_writable([cache], uid, gid)
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
        code = subprocess.run([*base, "--entrypoint", "python", image, "/opt/tools/download_model.py", repo]).returncode or code
    return code


def requirement_files(profile: str) -> list[tuple[str, bool]]:
    """(path, no_deps) of every requirements file the profile's Dockerfiles install."""
    found: list[tuple[str, bool]] = []
    for image in gen_compose.images(profile):
        path = REPO_ROOT / image.dockerfile
        if image.name == "base-ml" or not path.is_file():
            continue  # torch comes from its own index (docs/CONTAINERS.md); a missing Dockerfile fails the build
        text = path.read_text()
        for path in re.findall(r"COPY\s+((?:docker/\S+\.txt\s+)+)", text):
            for item in path.split():
                if "constraints" in item or "excluded" in item:  # pin lists, not requirements
                    continue
                entry = (item, "nodeps" in item)
                if entry not in found:
                    found.append(entry)
    return found


def wheelhouse(profile: str) -> int:
    """Every wheel the profile's images install, once, into ./wheelhouse (built in the
    base image, so the wheels match its Python and platform)."""
    ensure_images(profile, [])
    out = REPO_ROOT / "wheelhouse"
    uid, gid = container_user()
    make_writable([out], uid, gid)
    image = gen_compose.images(profile, [])[0].ref(image_prefix(), image_tag())
    cmd = [*docker(), "run", "--rm", "--user", f"{uid}:{gid}", "-e", "HOME=/tmp", "-e", "PIP_NO_CACHE_DIR=1",
           "-v", f"{out}:/wheelhouse", "-v", f"{REPO_ROOT / 'docker'}:/src/docker:ro", "-w", "/src"]
    ca = ca_bundle()
    if ca:
        cmd += ["-v", f"{ca}:/run/secrets/cacert:ro", "-e", "PIP_CERT=/run/secrets/cacert"]
    script = ["set -eu", "pip --version"]
    for path, no_deps in requirement_files(profile):
        deps = " --no-deps" if no_deps else ""
        script.append(f"pip wheel --disable-pip-version-check --wheel-dir /wheelhouse -c docker/constraints.txt{deps} -r {path}")
    cmd += ["--entrypoint", "bash", image, "-c", "\n".join(script)]
    started = time.perf_counter()
    code = subprocess.run(cmd).returncode
    if code == 0:
        wheels = list(out.glob("*.whl"))
        size = sum(p.stat().st_size for p in wheels) / 1e6
        say(f"wheelhouse: {len(wheels)} wheels, {size:.0f} MB in {out} ({time.perf_counter() - started:.0f} s); "
            "build from it with: make images WHEELS=wheelhouse")
    return code


# --- command line ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 docker/compose_run.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    profile_help = "auto (gpu when docker has the NVIDIA runtime), cpu or gpu; default $PROFILE or auto"

    p = sub.add_parser("run", help="one input through every stage")
    p.add_argument("input", type=Path)
    p.add_argument("--profile", default=None, help=profile_help)
    p.add_argument("--job-id", default=None)
    p.add_argument("--config", type=Path, default=None, help="JSON options per stage, kept in the job")
    p.add_argument("--metadata", type=Path, default=None, help="metadata.json for the job (title, cast, ...)")
    p.add_argument("--glossary", type=Path, default=None, help="glossary.tsv for the job")
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
    p.add_argument("--stages", default=None, help="comma-separated stages (default: all)")

    p = sub.add_parser("models", help="download ASR_MODEL (and HF_MODELS) into the model cache (network)")
    p.add_argument("--model", default=None, help="the ASR model (default $ASR_MODEL or the asr default)")
    p.add_argument("--hf", default=os.environ.get("HF_MODELS", ""),
                   help="more Hugging Face repository ids, space- or comma-separated (default $HF_MODELS)")
    p.add_argument("--profile", default="cpu", help="which asr image runs the download (default cpu)")

    p = sub.add_parser("wheelhouse", help="every wheel the images install, into ./wheelhouse")
    p.add_argument("--profile", default="cpu")

    sub.add_parser("profile", help="print the profile auto would choose")

    logging_setup.configure()  # the host side's own lines (the TMDB fetch at job creation), secrets masked
    argv = list(sys.argv[1:] if argv is None else argv)
    passed = argv[argv.index("--") + 1:] if "--" in argv else []  # stage flags: stage asr --job X -- --force
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    try:
        if args.command == "profile":
            print(detect_profile())
            return 0
        profile = resolve_profile(args.profile)
        if args.command == "run":
            try:
                result = run_job(args.input, profile, args.job_id, args.config, args.metadata, args.glossary,
                                 build=not args.no_build)
            except Fail as err:
                if args.result_json:
                    atomic_write_json(args.result_json, {"error": str(err), "exit_code": err.code,
                                                         **({"job": err.job} if err.job else {})})
                raise
            if args.result_json:
                atomic_write_json(args.result_json, result)
            return 0
        if args.command == "batch":
            return batch(args.inputs, profile, args.jobs)
        if args.command == "stage":
            return run_stage(args.stage, args.job, profile, passed)
        if args.command == "shell":
            return shell(args.stage, args.job, profile)
        if args.command == "images":
            if args.stages:
                stages = [s.strip() for s in args.stages.split(",")]
                for name in stages:
                    graph.stage(name)
            else:  # every stage not switched off
                skip = graph.parse_skip(os.environ.get("SKIP_STAGES"))
                stages = [s.name for s in graph.topological_order() if s.name not in skip]
            timings = ensure_images(profile, stages, missing_only=args.missing_only)
            for ref, seconds in timings.items():
                say(f"built {ref} in {seconds:.0f} s")
            return 0
        if args.command == "models":
            return download_models(args.model, profile, re.split(r"[\s,]+", args.hf.strip()) if args.hf.strip() else [])
        if args.command == "wheelhouse":
            return wheelhouse(profile)
    except Fail as err:
        print(f"error: {err}", file=sys.stderr)
        return err.code
    except PipelineError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
