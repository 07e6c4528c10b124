"""The compose files and the image set, derived from the stage graph.

    python3 docker/gen_compose.py            # rewrite docker-compose.yml and docker-compose-fallback.yml
    python3 docker/gen_compose.py --check    # exit 1 if either file is out of date

``shared/graph.py`` declares the stages; this module turns each into a compose
service (``depends_on`` follows the graph's inputs and outputs) and names the
image each stage runs in. Standard library only: it runs with the host's
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
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from shared import graph  # noqa: E402  (after the path fix above)
from shared import options as opts  # noqa: E402

PROFILES = {"gpu": "docker-compose.yml", "cpu": "docker-compose-fallback.yml"}
ACCELERATOR = {"gpu": "cuda", "cpu": "cpu"}

# Where things are inside every container; the host side comes from the
# environment the make targets set (same names as the native Makefile).
CONTAINER_INPUT_DIR = "/input"
CONTAINER_JOBS_DIR = "/jobs"
CONTAINER_MODEL_CACHE = "/shared-model-and-cache"
CONTAINER_UID = "1000"

# Settings passed to every stage besides the options table: logging
# (shared/log.py) and the stages switched off (shared/graph.py parse_skip).
COMMON_ENV = ("LOG_FORMAT", "LOG_LEVEL", "SKIP_STAGES")

IMAGE_PREFIX = "${IMAGE_PREFIX:-whisperx-pipeline}"
IMAGE_TAG = "${IMAGE_TAG:-latest}"


@dataclass(frozen=True)
class Image:
    """One image to build: its Dockerfile, optional target, tag and build arguments."""

    name: str  # base-runtime, base, base-ml, or a stage name
    dockerfile: str  # relative to the repository root
    target: str | None
    tag_suffix: str  # "" or "-cpu"/"-cuda" for images built in both flavours
    base: str | None  # the image name this one starts FROM (None: the OS base image)
    build_args: tuple[tuple[str, str], ...] = ()

    def ref(self, prefix: str = "whisperx-pipeline", tag: str = "latest") -> str:
        return f"{prefix}/{self.name}:{tag}{self.tag_suffix}"


# The embedded Whisper models, seeded into the model cache by the service of the same name
# before the stages that load them (shared/graph.py: whisper_model). Not a stage: it reads
# and writes no job, only the cache.
MODELS = "models"
MODELS_IMAGE = Image(MODELS, "docker/models/Dockerfile", None, "", "base-runtime")
CUDA_LIBS_IMAGE = Image("cuda-libs", "docker/cuda-libs/Dockerfile", None, "", "base-runtime")


def helpers(stages: list[str]) -> list[str]:
    """The services besides the stages that running ``stages`` needs: the models seeder
    when one of them loads a Whisper model."""
    return [MODELS] if any(graph.stage(name).whisper_model for name in stages) else []


def has_accelerator(spec: graph.StageSpec) -> bool:
    return spec.device != "cpu"


def stage_base(spec: graph.StageSpec) -> str:
    """base-ml for the stages that need torch, else base-runtime (docker/gen_dockerfiles.py
    writes each stage's Dockerfile FROM it)."""
    return "base-ml" if "torch" in spec.packages else "base-runtime"


def images(profile: str, stages: list[str] | None = None) -> list[Image]:
    """The images of a profile in build order (bases first), optionally only some stages'."""
    accel = ACCELERATOR[profile]
    chosen = [s for s in graph.topological_order() if stages is None or s.name in stages]
    result = [
        Image("base-runtime", "docker/base/Dockerfile", "runtime", "", None),
        Image("base", "docker/base/Dockerfile", "base", "", None),
    ]
    # gpu: the CUDA libraries once, under every image that uses the GPU (asr and base-ml)
    cuda = accel == "cuda" and any(has_accelerator(s) for s in chosen)
    if cuda:
        result.append(CUDA_LIBS_IMAGE)
    if any(stage_base(s) == "base-ml" for s in chosen):
        result.append(Image("base-ml", "docker/base-ml/Dockerfile", None, f"-{accel}",
                            "cuda-libs" if cuda else "base-runtime", (("ACCELERATOR", accel),)))
    if any(s.whisper_model for s in chosen):
        result.append(MODELS_IMAGE)
    for spec in chosen:
        base = stage_base(spec)
        if cuda and has_accelerator(spec) and base == "base-runtime":
            base = "cuda-libs"
        if has_accelerator(spec):
            result.append(Image(spec.name, f"docker/{spec.name}/Dockerfile", None, f"-{accel}", base,
                                (("ACCELERATOR", accel),)))
        else:
            result.append(Image(spec.name, f"docker/{spec.name}/Dockerfile", None, "", base))
    return result


def stage_image(spec: graph.StageSpec, profile: str) -> Image:
    return next(i for i in images(profile, [spec.name]) if i.name == spec.name)


def reads_media(spec: graph.StageSpec) -> bool:
    return "media" in spec.inputs


def settings_env_names() -> list[str]:
    """Every stage setting's variable. Each service gets them all (passed only when set on
    the host), because a stage may read another's setting (pre-ner counts tokens with
    ASR_MODEL's tokenizer)."""
    return [f.metadata["env"] for cls in graph.options_by_stage().values() for f in opts.fields_of(cls)]


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
        "# the read-only root), then every setting, passed through only when set.",
        "x-environment: &environment",
        "  - HOME=/tmp",
        f"  - JOBS_DIR={CONTAINER_JOBS_DIR}",
        f"  - MODEL_CACHE={CONTAINER_MODEL_CACHE}",
        f"  - JOB_MEDIA_PATH={CONTAINER_INPUT_DIR}/${{INPUT_NAME:?INPUT_NAME is not set}}",
    ]
    lines += [f"  - {name}" for name in (*COMMON_ENV, *settings_env_names())]
    job_mounts = [
        "  - type: bind",
        "    source: ${JOBS_DIR:-./jobs}",
        f"    target: {CONTAINER_JOBS_DIR}",
        "  - type: bind",
        "    source: ${MODEL_CACHE:-./shared-model-and-cache}",
        f"    target: {CONTAINER_MODEL_CACHE}",
    ]
    lines += ["", "# The only writable mounts: the jobs folder and the model cache.", "x-volumes: &volumes", *job_mounts]
    lines += ["", "# Stages that read the input media also get its folder, read-only.",
              "x-volumes-with-input: &volumes-with-input",
              "  - type: bind",
              "    source: ${INPUT_DIR:?INPUT_DIR is not set}",
              f"    target: {CONTAINER_INPUT_DIR}",
              "    read_only: true",
              *job_mounts]
    return lines


def service(spec: graph.StageSpec, profile: str) -> list[str]:
    """The YAML lines of one service."""
    image = stage_image(spec, profile)
    lines = [
        f"  {spec.name}:",
        "    <<: *stage",
        f"    image: {IMAGE_PREFIX}/{image.name}:{IMAGE_TAG}{image.tag_suffix}",
        "    environment: *environment",
        f"    volumes: *{'volumes-with-input' if reads_media(spec) else 'volumes'}",
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
# /input), JOBS_DIR and MODEL_CACHE (host folders, the only writable mounts),
# PIPELINE_UID/GID (default 1000), IMAGE_PREFIX, IMAGE_TAG, and each stage's
# settings (ASR_MODEL, ...: python -m host.settings_doc lists them), passed
# through when set. Images are built with docker build (make images), never
# pulled. Stages have no network: they run offline by design.
"""

TITLES = {
    "gpu": "GPU profile: the ASR stage on an NVIDIA GPU (NVIDIA driver + Container Toolkit).",
    "cpu": "CPU fallback profile: the same stages, no GPU needed.",
}


def models_service() -> list[str]:
    """The YAML lines of the models seeder: the stage settings, no job, the model cache."""
    return [
        f"  {MODELS}:",
        "    <<: *stage",
        f"    image: {IMAGE_PREFIX}/{MODELS_IMAGE.name}:{IMAGE_TAG}",
        '    command: ["seed"]',
        "    environment: *environment",
        "    volumes: *volumes",
    ]


def render(profile: str) -> str:
    lines = HEADER.format(title=TITLES[profile], profile=profile).splitlines()
    lines += ["", f"name: whisperx-pipeline-{profile}", "", *common_blocks(), "", "services:"]
    lines += models_service()
    for spec in graph.topological_order():
        lines.append("")
        lines += service(spec, profile)
    return "\n".join(lines) + "\n"


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
