"""The queue on this Docker host: ``make fleet-up`` / ``make fleet-down`` (standard library only).

    python3 -m host.queue.fleet up [--profile auto|cpu|gpu] [--media-dir films] -- asr=2 diarization=1
    python3 -m host.queue.fleet down

``up`` builds what is missing (the stage images of the profile, the models image, the Redis image
from the local OS base, the api image), seeds the embedded models into the model cache, and starts
Redis, the api (the HTTP service on PORT, loopback only; ``--no-api``: not), the watch folder
when WATCH_DIR is set (a folder in MEDIA_DIR), and one worker per
stage, ``--scale``\\ d by the ``stage=count`` pairs (``asr=0`` starts none). Every job then goes
through ``make submit`` or the api. ``down`` stops them; Redis's volume stays, so what was queued is
still there at the next ``up``. One compose project, ``whisperx-pipeline-queue`` (``<IMAGE_PREFIX>-queue``
for images built under another prefix; ``QUEUE_PROJECT`` names
another: CI runs its own beside a user's).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from host.containers import images, jobs
from host.containers.cli import Fail, build_command, docker, image_exists, quiet, require_docker, resolve_profile, run, say
from host.queue import compose as queue
from shared import graph

PROJECT = "whisperx-pipeline-queue"


def project() -> str:
    """The compose project: QUEUE_PROJECT, else one per IMAGE_PREFIX, so a fleet of images built apart runs apart."""
    if os.environ.get("QUEUE_PROJECT"):
        return os.environ["QUEUE_PROJECT"]
    prefix = images.image_prefix()
    return PROJECT if prefix == "whisperx-pipeline" else f"{prefix.replace('/', '-')}-queue"


def parse_workers(items: list[str]) -> dict[str, int]:
    """``["asr=2", "diarization=1"]`` over a default of one worker per stage."""
    counts = {s.name: 1 for s in graph.topological_order()}
    for item in " ".join(items).split():
        name, sep, count = item.partition("=")
        if not sep or not count.isdigit():
            raise Fail(f"WORKERS: {item!r} is not stage=count (e.g. WORKERS=\"asr=2 diarization=1\")", 2)
        if name not in counts:
            raise Fail(f"WORKERS: unknown stage {name!r}; stages are: {', '.join(counts)}", 2)
        counts[name] = int(count)
    return counts


def compose_command(profile: str) -> list[str]:
    return [*docker(), "compose", "--project-directory", str(images.REPO_ROOT), "-p", project(),
            "-f", str(images.REPO_ROOT / images.PROFILES[profile]), "--profile", queue.PROFILE]


def compose_env(media_dir: Path) -> dict[str, str]:
    """The host folders; the stage services' job variables get placeholders (compose reads the
    whole file, and the queue never starts those services)."""
    uid, gid = jobs.container_user()
    watch = os.environ.get("WATCH_DIR")
    return {**os.environ, "JOBS_DIR": str(jobs.jobs_dir()), "MODEL_CACHE": str(jobs.model_cache_dir()),
            "MEDIA_DIR": str(media_dir), "SERVICE_DATA_DIR": str(service_data_dir()),
            **({"WATCH_DIR": str(Path(watch).expanduser().absolute())} if watch else {}),
            "PIPELINE_UID": str(uid), "PIPELINE_GID": str(gid), "JOB_ID": "queue", "INPUT_DIR": str(media_dir), "INPUT_NAME": "-"}


def redis_image() -> str:
    ref = f"{images.image_prefix()}/redis:{images.image_tag()}"
    if image_exists(ref):
        return ref
    build, env = build_command()
    say(f"building {ref} (Debian's redis-server on {images.os_base_image()})")
    code = run([*build, "-f", str(images.REPO_ROOT / "docker" / "redis" / "Dockerfile"), "--build-arg",
                f"BASE_IMAGE={images.os_base_image()}", "-t", ref, str(images.REPO_ROOT)], env)
    if code:
        raise Fail(f"building {ref} failed (exit {code}): see the lines above")
    return ref


def service_data_dir() -> Path:
    """The api's uploads and request files on this host (SERVICE_DATA_DIR, as for make serve)."""
    return Path(os.environ.get("SERVICE_DATA_DIR") or "service-data").expanduser().absolute()


def watch_dir(media_dir: Path) -> Path | None:
    """WATCH_DIR when set: the watch service's folder, which must be MEDIA_DIR or in it."""
    value = os.environ.get("WATCH_DIR")
    if not value:
        return None
    folder = Path(value).expanduser().absolute()
    if not folder.is_dir() or not folder.is_relative_to(media_dir):
        raise Fail(f"WATCH_DIR {folder} must be a folder in MEDIA_DIR {media_dir} (the workers read the films there)", 2)
    return folder


def up(profile: str, counts: dict[str, int], media_dir: Path, api: bool = True) -> int:
    require_docker(compose=True, build=True)
    if not media_dir.is_dir():
        raise Fail(f"MEDIA_DIR {media_dir} is not a folder: point it at the folder your inputs are in "
                   "(mounted read-only in every worker at the same path)", 2)
    images.ensure_images(profile, [name for name, n in counts.items() if n > 0] or None, api=api)
    redis_image()
    uid, gid = jobs.container_user()
    jobs.make_writable([jobs.jobs_dir(), service_data_dir()], uid, gid)
    jobs.prepare_cache(jobs.model_cache_dir(), uid, gid)  # never chowned when it exists (docs/CONTAINERS.md)
    base, env = compose_command(profile), compose_env(media_dir)
    if run([*base, "run", "--rm", "--no-deps", images.MODELS], env):
        raise Fail("seeding the embedded models into the model cache failed: see the lines above")
    watch = watch_dir(media_dir)
    services = [queue.REDIS, *(queue.worker_service(n) for n, c in counts.items() if c > 0), *([queue.API] if api else []),
                *([queue.WATCH] if watch else [])]
    scale = [f"--scale={queue.worker_service(n)}={c}" for n, c in counts.items() if c > 0]
    code = run([*base, "up", "--detach", "--no-build", *scale, *services], env)
    if code == 0:
        say(f"queue up ({profile}): {', '.join(f'{n}={c}' for n, c in counts.items() if c)}; "
            "make submit INPUTS=<files or folder>, make status"
            + (f"; the API on http://127.0.0.1:{os.environ.get('PORT') or 9000}" if api else ""))
    return code


def down(profile: str) -> int:
    require_docker(compose=True, build=False)
    env = compose_env(Path.cwd())
    result = quiet([*compose_command(profile), "down"], env)
    if result.returncode:
        raise Fail(f"docker compose down failed: {result.stderr.strip().splitlines()[-1:] or result.returncode}")
    say("queue down (Redis's volume is kept: make fleet-up resumes what was queued)")
    return 0


def running_media_dir() -> Path | None:
    """The media folder of this host's running fleet (``project()``): its workers' read-only bind
    mount at its own host path. None without docker, without a running fleet, or when it cannot
    be told (a fleet elsewhere, Kubernetes: no check then)."""
    cli = docker()
    if shutil.which(cli[0]) is None:
        return None
    try:
        ids = quiet([*cli, "ps", "-q", "--filter", f"label=com.docker.compose.project={project()}"], timeout=10)
        if ids.returncode or not ids.stdout.split():
            return None
        found = quiet([*cli, "inspect", "--format", "{{json .Mounts}}", *ids.stdout.split()], timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    for line in found.stdout.splitlines() if found.returncode == 0 else []:
        for mount in json.loads(line or "[]"):
            if mount.get("Type") == "bind" and not mount.get("RW", True) and mount.get("Source") == mount.get("Destination"):
                return Path(mount["Source"])
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 -m host.queue.fleet", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("up", "down"))
    parser.add_argument("--profile", default=None, help="auto, cpu or gpu (default $PROFILE or auto)")
    parser.add_argument("--media-dir", type=Path, default=Path(os.environ.get("MEDIA_DIR") or "films"),
                        help="the folder of the inputs, mounted read-only in every worker (default $MEDIA_DIR or ./films)")
    parser.add_argument("--no-api", dest="api", action="store_false",
                        help="do not start the api service (the HTTP service on the queue, docs/SERVICE.md)")
    parser.add_argument("workers", nargs="*", help="stage=count pairs (default: one worker per stage)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_intermixed_args(argv)  # make fleet-up puts WORKERS after the options
    try:
        profile = resolve_profile(args.profile, tuple(images.PROFILES))
        if args.command == "down":
            return down(profile)
        return up(profile, parse_workers(args.workers), args.media_dir.expanduser().absolute(), args.api)
    except Fail as err:
        print(f"error: {err}", file=sys.stderr)
        return err.code


if __name__ == "__main__":
    sys.exit(main())
