"""The compose files, derived from the stage graph.

    python3 docker/gen_compose.py            # rewrite docker-compose.yml and docker-compose-fallback.yml
    python3 docker/gen_compose.py --check    # exit 1 if either file is out of date

``shared/graph.py`` declares the stages; this module turns each into a compose
service (``depends_on`` follows the graph's inputs and outputs; the environment
is the job-wide settings plus the stage's own, ``graph.settings_of``) running
the image host/containers/images.py names. Standard library only: it runs with the host's
plain ``python3``; tests/unit/test_compose.py keeps the committed files equal
to what it generates.

Profiles:
    gpu  docker-compose.yml           stages whose device is ``cuda-or-cpu`` get
                                      the NVIDIA GPU and their ``-cuda`` image
    cpu  docker-compose-fallback.yml  the same stages, every one on CPU
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# The image set (which images, their bases and tags) is the container executor's; the compose
# files name the same images. Re-exported here for the Dockerfile generator and the tests.
from host.containers.images import (  # noqa: E402,F401  (after the path fix above)
    ACCELERATOR,
    CUDA_LIBS_IMAGE,
    MODELS,
    MODELS_IMAGE,
    PROFILES,
    Image,
    has_accelerator,
    helpers,
    images,
    stage_base,
    stage_image,
)
from host.queue import compose as queue  # noqa: E402
from shared import graph  # noqa: E402

# Where things are inside every container; the host side comes from the
# environment the make targets set (same names as the native Makefile).
CONTAINER_INPUT_DIR = "/input"
CONTAINER_JOBS_DIR = "/jobs"
CONTAINER_MODEL_CACHE = "/shared-model-and-cache"
CONTAINER_UID = "1000"

# Settings passed to every stage besides its own: logging (shared/log.py), the stages switched
# off and forced (shared/stage.py), and the settings that switch stages on (graph enabled_by:
# every stage decides from them which outputs it may read).
COMMON_ENV = ("LOG_FORMAT", "LOG_LEVEL", "SKIP_STAGES", "FORCE_STAGES", "JOB_LOCK_TOKEN")

# Memory and process limits per container (docs/CONTAINERS.md). Memory by device class: the
# stages that can use a GPU load the large models (on CPU they hold them in RAM), the others
# hold audio and text. Each stage's own setting wins, then its class's, then the default here.
MEM_LIMIT_SETTINGS = {"cpu": ("CPU_STAGE_MEM_LIMIT", "4g"), "cuda-or-cpu": ("ML_STAGE_MEM_LIMIT", "16g")}
MODELS_MEM_LIMIT = "1g"  # the seeder copies files, in 4 MB blocks
PIDS_LIMIT_SETTING = ("STAGE_PIDS_LIMIT", "1024")  # threads count too: torch and CTranslate2 start one per core


def mem_limit_setting(stage: str) -> str:
    """A stage's own memory limit setting: ``ASR_MEM_LIMIT``, ``SECOND_PASS_TRANSLATION_MEM_LIMIT``."""
    return stage.upper().replace("-", "_") + "_MEM_LIMIT"


def limits(name: str, device: str | None) -> list[str]:
    """The YAML lines of a service's limits: its memory (its own setting, else its device class's,
    else the default) and its processes."""
    if device is None:
        mem = f"${{{mem_limit_setting(name)}:-{MODELS_MEM_LIMIT}}}"
    else:
        cls_setting, default = MEM_LIMIT_SETTINGS[device]
        mem = f"${{{mem_limit_setting(name)}:-${{{cls_setting}:-{default}}}}}"
    return [f'    mem_limit: "{mem}"', f'    pids_limit: ${{{PIDS_LIMIT_SETTING[0]}:-{PIDS_LIMIT_SETTING[1]}}}']


IMAGE_PREFIX = "${IMAGE_PREFIX:-whisperx-pipeline}"
IMAGE_TAG = "${IMAGE_TAG:-latest}"


def reads_media(spec: graph.StageSpec) -> bool:
    return "media" in spec.inputs


def job_wide_settings() -> list[str]:
    """The settings every service gets: :data:`COMMON_ENV` and the settings that switch a
    stage on (TARGET_LANGUAGES), which every stage reads to know what runs."""
    return list(dict.fromkeys([*COMMON_ENV, *graph.enabling_settings()]))


def stage_settings(name: str) -> list[str]:
    """The settings one stage's service gets besides the job-wide ones: its own and those its
    options follow (graph.settings_of), nothing of another stage's."""
    wide = set(job_wide_settings())
    return [env for env in graph.settings_of(name) if env not in wide]


def common_blocks() -> list[str]:
    """Extension fields every service merges: how a stage container runs, its environment,
    its mounts. Written once, so the services below show only what differs."""
    lines = [
        "x-stage: &stage",
        "  pull_policy: never",
        f'  user: "${{PIPELINE_UID:-{CONTAINER_UID}}}:${{PIPELINE_GID:-{CONTAINER_UID}}}"',
        "  init: true",
        "  read_only: true",
        "  network_mode: none",
        "  cap_drop: [ALL]",
        "  security_opt: [no-new-privileges:true]",
        "  tmpfs: [/tmp]",
        '  command: ["--job", "${JOB_ID:?JOB_ID is not set: start jobs with make run INPUT=<media>}"]',
        "",
        "# Paths inside the container (HOME on the tmpfs: libraries that write ~/.cache work on",
        "# the read-only root), then the job-wide settings, passed through only when set (a name",
        "# without a value). Each service adds its own settings, and only those.",
        "x-environment: &environment",
        "  HOME: /tmp",
        f"  JOBS_DIR: {CONTAINER_JOBS_DIR}",
        f"  MODEL_CACHE: {CONTAINER_MODEL_CACHE}",
        f"  JOB_MEDIA_PATH: {CONTAINER_INPUT_DIR}/${{INPUT_NAME:?INPUT_NAME is not set}}",
    ]
    lines += [f"  {name}:" for name in job_wide_settings()]
    # a stage sees its own job's folder only (JOB_ID, set by the container executor), and the
    # model cache read-only: only the models service writes it
    job_mounts = [
        "  - type: bind",
        "    source: ${JOBS_DIR:-./jobs}/${JOB_ID:?JOB_ID is not set}",
        f"    target: {CONTAINER_JOBS_DIR}/${{JOB_ID:?JOB_ID is not set}}",
        "  - type: bind",
        "    source: ${MODEL_CACHE:-./shared-model-and-cache}",
        f"    target: {CONTAINER_MODEL_CACHE}",
        "    read_only: true",
    ]
    lines += ["", "# The only writable mount: the job's own folder. The model cache is read-only.",
              "x-volumes: &volumes", *job_mounts]
    lines += ["", "# Stages that read the input media also get its folder, read-only.",
              "x-volumes-with-input: &volumes-with-input",
              "  - type: bind",
              "    source: ${INPUT_DIR:?INPUT_DIR is not set}",
              f"    target: {CONTAINER_INPUT_DIR}",
              "    read_only: true",
              *job_mounts]
    lines += ["", "# The models service seeds the model cache: the one service that writes it, and no job.",
              "x-volumes-models: &volumes-models",
              "  - type: bind",
              "    source: ${MODEL_CACHE:-./shared-model-and-cache}",
              f"    target: {CONTAINER_MODEL_CACHE}"]
    return lines


def service(spec: graph.StageSpec, profile: str) -> list[str]:
    """The YAML lines of one service."""
    image = stage_image(spec, profile)
    lines = [
        f"  {spec.name}:",
        "    <<: *stage",
        f"    image: {IMAGE_PREFIX}/{image.name}:{IMAGE_TAG}{image.tag_suffix}",
        "    environment:",
        "      <<: *environment",
        *(f"      {name}:" for name in stage_settings(spec.name)),
        f"    volumes: *{'volumes-with-input' if reads_media(spec) else 'volumes'}",
        *limits(spec.name, spec.device),
    ]
    # Optional inputs order the run too. A stage switched off is simply not started: the
    # driver runs `up --no-deps <the stages that run>`, and compose then waits only for the
    # listed ones, so a failed producer stops its consumers and a skipped one does not.
    upstream = [s.name for s in graph.topological_order() if s.name in graph.upstream(spec.name)]
    upstream = helpers([spec.name]) + upstream
    if upstream:
        lines.append("    depends_on:")
        for name in upstream:
            lines += [f"      {name}:", "        condition: service_completed_successfully"]
    if profile == "gpu" and has_accelerator(spec):
        lines += [
            "    deploy:",
            "      resources:",
            "        reservations:",
            "          devices:",
            "            - driver: nvidia",
            "              count: all",
            "              capabilities: [gpu]",
        ]
    return lines


HEADER = """\
# GENERATED from shared/graph.py by docker/gen_compose.py: do not edit by hand.
# Regenerate: python3 docker/gen_compose.py (tests/unit/test_compose.py checks it).
#
# {title}
# Run through make (it creates the job, builds missing images, sets the
# variables below and checks every stage's exit code):
#     make run INPUT=movie.mp4 PROFILE={profile}
# Variables: JOB_ID, INPUT_DIR + INPUT_NAME (the input, mounted read-only at
# /input), JOBS_DIR (a stage mounts only JOBS_DIR/JOB_ID, its one writable
# mount) and MODEL_CACHE (read-only, written only by the models service),
# PIPELINE_UID/GID (default 1000), IMAGE_PREFIX, IMAGE_TAG, the limits
# (<STAGE>_MEM_LIMIT, else CPU_STAGE_MEM_LIMIT=4g or ML_STAGE_MEM_LIMIT=16g
# by device class; STAGE_PIDS_LIMIT=1024; docs/CONTAINERS.md), and the settings
# (ASR_MODEL, ...: python -m host.settings_doc lists them), each passed through
# when set, and only to the stages that read it. Images are built with docker
# build (make images), never pulled. Stages have no network: they run offline
# by design.
"""

TITLES = {
    "gpu": "GPU profile: the stages that can use a GPU ({gpu}) get the NVIDIA GPUs (NVIDIA driver + Container Toolkit).",
    "cpu": "CPU fallback profile: the same stages, no GPU needed.",
}


def models_service() -> list[str]:
    """The YAML lines of the models seeder: the job-wide settings, no job, the model cache."""
    return [
        f"  {MODELS}:",
        "    <<: *stage",
        f"    image: {IMAGE_PREFIX}/{MODELS_IMAGE.name}:{IMAGE_TAG}",
        '    command: ["seed"]',
        "    environment: *environment",
        "    volumes: *volumes-models",
        *limits(MODELS, None),
    ]


def render(profile: str) -> str:
    accelerated = ", ".join(s.name for s in graph.topological_order() if has_accelerator(s))
    title = "\n# ".join(textwrap.wrap(TITLES[profile].format(gpu=accelerated), 78))
    lines = HEADER.format(title=title, profile=profile).splitlines()
    lines += ["", f"name: whisperx-pipeline-{profile}", "", *common_blocks(), *queue_blocks(), "", "services:"]
    lines += models_service()
    for spec in graph.topological_order():
        lines.append("")
        lines += service(spec, profile)
    lines += queue_services(profile)
    return "\n".join(lines) + "\n"


def queue_blocks() -> list[str]:
    return queue.blocks(CONTAINER_UID, CONTAINER_JOBS_DIR, CONTAINER_MODEL_CACHE, job_wide_settings()[len(COMMON_ENV):])


def queue_services(profile: str) -> list[str]:
    """The queue profile: Redis and a worker per stage image (host/queue/compose.py)."""
    def image_of(name: str) -> str:
        image = stage_image(graph.stage(name), profile)
        return f"{IMAGE_PREFIX}/{image.name}:{IMAGE_TAG}{image.tag_suffix}"

    return queue.services([s.name for s in graph.topological_order()], profile, image_of, stage_settings,
                          lambda name: has_accelerator(graph.stage(name)), IMAGE_PREFIX, IMAGE_TAG)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed files are up to date")
    args = parser.parse_args(argv)
    stale = []
    for profile, filename in PROFILES.items():
        path = REPO_ROOT / filename
        text = render(profile)
        if path.is_file() and path.read_text() == text:
            continue
        if args.check:
            stale.append(filename)
        else:
            path.write_text(text)
            print(f"wrote {filename}")
    if stale:
        print(f"out of date with shared/graph.py: {', '.join(stale)}; run: python3 docker/gen_compose.py",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
