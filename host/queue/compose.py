"""The ``queue`` profile of the compose files (docker/gen_compose.py writes it into both):
Redis, and one worker service per stage image. Standard library only, like the generator.

    make fleet-up WORKERS="asr=2 diarization=1"   # redis + a worker per stage (--scale from WORKERS)

Compose starts a profile's services only when asked, so ``make run`` and ``make batch`` never
see them. A worker runs its stage image with ``python -m fleet.worker --stage <name>``: the
stage's own libraries, non-root, read-only root filesystem, no capabilities; unlike a stage
container it has a network (to reach Redis). The jobs folder and the model cache are mounted as
for the stages, and the media folder (``MEDIA_DIR``) read-only at the same path as on the host,
because a job records its input by the path it was submitted with. The ``api`` service is the
HTTP service (docs/SERVICE.md) in its torch-free image, handing its jobs to the workers; its
uploads folder is mounted in every worker (read-only) at the path the api stores them.
"""

from __future__ import annotations

from collections.abc import Callable

PROFILE = "queue"
REDIS = "redis"
REDIS_VOLUME = "redis-data"
REDIS_URL = "redis://redis:6379/0"
API = "api"
API_PORT = 9000  # inside the container; published on the host's loopback at ${PORT:-9000}
SERVICE_DATA_DIR = "/service-data"
API_SETTINGS = ("API_TOKEN", "MAX_UPLOAD_MB", "LANGUAGE_DETECTION_MODEL")
WATCH = "watch"
WATCH_SETTINGS = ("WATCH_LANGUAGE", "WATCH_POLL_INTERVAL_S", "WATCH_STABLE_S", "WATCH_DIARIZE")
QUEUE_SETTINGS = ("QUEUE_VISIBILITY_TIMEOUT_S", "QUEUE_LOCK_RETRY_S", "QUEUE_PUBLISH_RETRY_S", "LOG_FORMAT", "LOG_LEVEL")


def worker_service(stage: str) -> str:
    return f"{stage}-worker"


def blocks(uid: str, jobs_dir: str, model_cache: str, switching: list[str]) -> list[str]:
    """Extension fields the worker services merge (after the stages' own)."""
    return [
        "",
        "# Queue profile (docs/SCALE.md): a worker per stage image, consuming its stage's queue.",
        "x-worker: &worker",
        "  profiles: [queue]",
        "  pull_policy: never",
        f'  user: "${{PIPELINE_UID:-{uid}}}:${{PIPELINE_GID:-{uid}}}"',
        "  init: true",
        "  read_only: true",
        "  cap_drop: [ALL]",
        "  security_opt: [no-new-privileges:true]",
        "  tmpfs: [/tmp]",
        "  restart: unless-stopped",
        '  entrypoint: ["python", "-m", "fleet.worker"]',
        "  depends_on: [redis]",
        "",
        "x-worker-environment: &worker-environment",
        "  HOME: /tmp",
        f"  JOBS_DIR: {jobs_dir}",
        f"  MODEL_CACHE: {model_cache}",
        f"  QUEUE_BROKER_URL: {REDIS_URL}",
        *(f"  {name}:" for name in dict.fromkeys([*QUEUE_SETTINGS, *switching])),
        "",
        "# The jobs folder and the model cache as for the stages; the media folder read-only at",
        "# its host path (a job names its input by the path it was submitted with); the api's",
        "# uploads read-only at the path the api stores them (the input of a job it made).",
        "x-worker-volumes: &worker-volumes",
        "  - type: bind",
        "    source: ${JOBS_DIR:-./jobs}",
        f"    target: {jobs_dir}",
        "  - type: bind",
        "    source: ${MODEL_CACHE:-./shared-model-and-cache}",
        f"    target: {model_cache}",
        "  - type: bind",
        "    source: ${MEDIA_DIR:-./films}",
        "    target: ${MEDIA_DIR:-/films}",
        "    read_only: true",
        "  - type: bind",
        "    source: ${SERVICE_DATA_DIR:-./service-data}",
        f"    target: {SERVICE_DATA_DIR}",
        "    read_only: true",
    ]


def services(stages: list[str], profile: str, image_of: Callable[[str], str], settings_of: Callable[[str], list[str]],
             gpu: Callable[[str], bool], image_prefix: str, image_tag: str) -> list[str]:
    """The YAML lines of Redis and of one worker per stage, graph order."""
    lines = [
        "",
        f"  {REDIS}:",
        "    profiles: [queue]",
        f"    image: {image_prefix}/redis:{image_tag}",
        "    pull_policy: never",
        "    read_only: true",
        "    cap_drop: [ALL]",
        "    security_opt: [no-new-privileges:true]",
        "    restart: unless-stopped",
        "    # make submit and make status reach it from this host only (loopback); other hosts: docs/SCALE.md",
        '    ports: ["127.0.0.1:${REDIS_PORT:-6379}:6379"]',
        "    volumes:",
        f"      - {REDIS_VOLUME}:/data",
        "    healthcheck:",
        '      test: ["CMD", "redis-cli", "ping"]',
        "      interval: 5s",
    ]
    for stage in stages:
        on_gpu = profile == "gpu" and gpu(stage)
        lines += [
            "",
            f"  {worker_service(stage)}:",
            "    <<: *worker",
            f"    image: {image_of(stage)}",
            f'    command: ["--stage", "{stage}", "--profile", "{profile}"]',
            "    environment:",
            "      <<: *worker-environment",
            *(f"      {name}:" for name in settings_of(stage)),
            "    volumes: *worker-volumes",
        ]
        if on_gpu:
            lines += ["    deploy:", "      resources:", "        reservations:", "          devices:",
                      "            - driver: nvidia", "              count: all", "              capabilities: [gpu]"]
    return [*lines, *api_service(profile, image_prefix, image_tag),
            *watch_service(profile, image_prefix, image_tag), "", "volumes:", f"  {REDIS_VOLUME}:"]


def watch_service(profile: str, image_prefix: str, image_tag: str) -> list[str]:
    """The watch folder (docs/SERVICE.md) in the api image, its jobs on the workers. It watches
    WATCH_DIR, which must be MEDIA_DIR or a folder in it (the workers read the films there, at the
    same path), and writes each SRT beside its film: the media folder is writable here alone."""
    return [
        "",
        f"  {WATCH}:",
        "    <<: *worker",
        f"    image: {image_prefix}/{API}:{image_tag}",
        '    entrypoint: ["python", "-m", "host.service.watch"]',
        '    command: ["${WATCH_DIR:-/films}"]',
        "    environment:",
        "      <<: *worker-environment",
        "      SERVICE_EXECUTOR: queue",
        f"      QUEUE_PROFILE: ${{QUEUE_PROFILE:-{profile}}}",
        f"      SERVICE_DATA_DIR: {SERVICE_DATA_DIR}",
        *(f"      {name}:" for name in WATCH_SETTINGS),
        "    volumes:",
        "      - type: bind",
        "        source: ${JOBS_DIR:-./jobs}",
        "        target: /jobs",
        "      - type: bind",
        "        source: ${MEDIA_DIR:-./films}",
        "        target: ${MEDIA_DIR:-/films}",
        "      - type: bind",
        "        source: ${SERVICE_DATA_DIR:-./service-data}",
        f"        target: {SERVICE_DATA_DIR}",
    ]


def api_service(profile: str, image_prefix: str, image_tag: str) -> list[str]:
    """The HTTP service (docs/SERVICE.md) on the queue: torch-free, its jobs run on the workers.
    It listens on 0.0.0.0 inside; only the host's loopback reaches the published port, so no
    token is needed (API_LOOPBACK_PUBLISHED); an API_TOKEN given is required of every client.
    Uploads and request files go to SERVICE_DATA_DIR, a folder the workers read at the same path."""
    return [
        "",
        f"  {API}:",
        "    <<: *worker",
        f"    image: {image_prefix}/{API}:{image_tag}",
        '    entrypoint: ["python", "-m", "host.service"]',
        "    environment:",
        "      <<: *worker-environment",
        "      SERVICE_EXECUTOR: queue",
        f"      QUEUE_PROFILE: ${{QUEUE_PROFILE:-{profile}}}  # the queues this file's workers consume",
        "      HOST: 0.0.0.0",
        f'      PORT: "{API_PORT}"',
        '      API_LOOPBACK_PUBLISHED: "true"',
        f"      SERVICE_DATA_DIR: {SERVICE_DATA_DIR}",
        "      LIBRARY_ROOT: ${MEDIA_DIR:-/films}",
        *(f"      {name}:" for name in API_SETTINGS),
        "    # this host's clients only (Bazarr beside it); other machines: a proxy that adds the token",
        f'    ports: ["127.0.0.1:${{PORT:-9000}}:{API_PORT}"]',
        "    volumes:",
        "      - type: bind",
        "        source: ${JOBS_DIR:-./jobs}",
        "        target: /jobs",
        "      - type: bind",
        "        source: ${MODEL_CACHE:-./shared-model-and-cache}",
        "        target: /shared-model-and-cache",
        "      - type: bind",
        "        source: ${MEDIA_DIR:-./films}",
        "        target: ${MEDIA_DIR:-/films}",
        "        read_only: true",
        "      - type: bind",
        "        source: ${SERVICE_DATA_DIR:-./service-data}",
        f"        target: {SERVICE_DATA_DIR}",
    ]
