"""The image set of a profile, what each image is built from, and building what is out of date.

Every image is named by the stage graph: ``base-runtime`` (Debian's Python, a
minimal FFmpeg, the common requirements), ``base`` (+ all of ``shared/``: a
shell and tool image), ``cuda-libs`` (gpu), ``base-ml`` (torch), ``models``
(the embedded Whisper models, seeded into the cache), and one per stage.

Each image carries a label with one hash of what it is built from: its
Dockerfile, the files it copies, its build arguments and its base's hash. For
a stage image the files are its requirement layers (docker/gen_dockerfiles.py's
table) and ``shared.sources.image_files`` (its package, its options and the
``shared`` modules it imports): exactly what its generated Dockerfile copies,
so a change to one stage's options rebuilds that stage's image only.
``make run`` rebuilds an image when the hash changed; ``make images`` runs
every build (BuildKit's cache makes unchanged ones take a second).

Settings: IMAGE_PREFIX, IMAGE_TAG, BASE_IMAGE (what the base builds FROM),
CA_BUNDLE (given to builds as the ``cacert`` secret), WHEELS (index or
wheelhouse), TORCH_INDEX_URL.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from host.containers.cli import Fail, build_command, docker, image_exists, quiet, run, say
from shared import graph

REPO_ROOT = Path(__file__).resolve().parents[2]  # the build context (bench/images.py points it at a copy)

PROFILES = {"gpu": "docker-compose.yml", "cpu": "docker-compose-fallback.yml"}
ACCELERATOR = {"gpu": "cuda", "cpu": "cpu"}
DEFAULT_BASE_IMAGE = "python:3.11-slim-bookworm"
LOCAL_BASE_IMAGE = "local/debian:bookworm"  # made by: make base-image
DEFAULT_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PYTORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu/"
SOURCE_LABEL = "org.whisperx-pipeline.source"


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
# The HTTP service for the queue profile (docker/gen_dockerfiles.py render_api): no stage runs in
# it; make fleet-up builds it beside the workers' images.
API = "api"
API_IMAGE = Image(API, "docker/api/Dockerfile", None, "", "base-runtime")
CUDA_LIBS_IMAGE = Image("cuda-libs", "docker/cuda-libs/Dockerfile", None, "", "base-runtime")
TOOLS = ("base",)  # images no stage runs in: built by make images, not by make run

# What the hand-written Dockerfiles copy from the build context (tests/unit/test_compose.py reads
# their COPY lines and fails when this drifts). The generated ones: docker/gen_dockerfiles.py.
HAND_WRITTEN_SOURCES = {
    "base-runtime": ("docker/ffmpeg/configure-minimal.sh", "docker/base/pip", "docker/base/pip-install",
                     "docker/constraints.txt", "docker/requirements-common.txt"),
    "base": ("shared/",),  # runtime + shared/
    "cuda-libs": ("docker/cuda-libs/requirements-cuda.txt",),
    "base-ml": ("docker/base-ml/requirements-torch.txt", "docker/base-ml/excluded.txt"),
}


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


def images(profile: str, stages: list[str] | None = None, tools: bool = True) -> list[Image]:
    """The images of a profile in build order (bases first), optionally only some stages'
    (and without the tool images: what running them needs)."""
    accel = ACCELERATOR[profile]
    chosen = [s for s in graph.topological_order() if stages is None or s.name in stages]
    result = [Image("base-runtime", "docker/base/Dockerfile", "runtime", "", None)]
    if tools:
        result.append(Image("base", "docker/base/Dockerfile", "base", "", None))
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


def image_prefix() -> str:
    return os.environ.get("IMAGE_PREFIX") or "whisperx-pipeline"


def image_tag() -> str:
    return os.environ.get("IMAGE_TAG") or "latest"


# --- what an image is built from -----------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def dockerfile_generator():
    """docker/gen_dockerfiles.py (docker/ is no package): its table says what each generated
    Dockerfile copies."""
    module = sys.modules.get("gen_dockerfiles")
    if module is None:
        path = Path(__file__).resolve().parents[2] / "docker" / "gen_dockerfiles.py"
        spec = importlib.util.spec_from_file_location("gen_dockerfiles", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["gen_dockerfiles"] = module
        spec.loader.exec_module(module)
    return module


def sources(image: Image) -> list[str]:
    """The context paths (files, or folders ending in /) ``image`` copies, relative to the repository."""
    if image.name in HAND_WRITTEN_SOURCES:
        return list(HAND_WRITTEN_SOURCES[image.name])
    if image.name == MODELS:
        return dockerfile_generator().models_sources()
    if image.name == API:
        return dockerfile_generator().api_sources()
    return dockerfile_generator().stage_sources(graph.stage(image.name))


def _hash_path(digest, rel: str) -> None:
    path = REPO_ROOT / rel
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
        and ".partial" not in p.parts and p.suffix not in (".pyc", ".pyo"))
    for file in files:
        digest.update(file.relative_to(REPO_ROOT).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())


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


def parent(image: Image) -> Image:
    """The project image ``image`` starts FROM (same accelerator flavour)."""
    profile = "gpu" if image.tag_suffix == "-cuda" or image.name == "cuda-libs" else "cpu"
    return next(i for i in images(profile) if i.name == image.base)


def source_hash(image: Image, wheels: str, memo: dict[str, str]) -> str:
    """What an image is built from, as one hash; ``memo`` holds the bases' hashes."""
    key = f"{image.name}{image.tag_suffix}"
    if key in memo:
        return memo[key]
    digest = hashlib.sha256()
    dockerfile = REPO_ROOT / image.dockerfile
    for path in (dockerfile, dockerfile.with_name("Dockerfile.dockerignore")):
        if path.is_file():
            _hash_path(digest, path.relative_to(REPO_ROOT).as_posix())
    for source in sources(image):
        if (REPO_ROOT / source).exists():
            _hash_path(digest, source)
    # TORCH_INDEX_URL is where torch comes from, not what: changing it alone does not make
    # base-ml out of date (make images rebuilds it).
    digest.update(json.dumps([image.target, image.build_args, wheels]).encode())
    if wheels == "wheelhouse":
        digest.update(" ".join(sorted(p.name for p in (REPO_ROOT / "wheelhouse").glob("*.whl"))).encode())
    if image.base is None:
        base = os_base_image()
        base_id = quiet([*docker(), "image", "inspect", "--format", "{{.Id}}", base]).stdout.strip()
        digest.update(f"{base}@{base_id}".encode())
        if image.target == "base":  # the runtime target below it
            digest.update(source_hash(Image("base-runtime", image.dockerfile, "runtime", "", None), wheels, memo).encode())
    else:
        digest.update(source_hash(parent(image), wheels, memo).encode())
    memo[key] = digest.hexdigest()[:24]
    return memo[key]


# --- building -----------------------------------------------------------------------------------


def ca_bundle() -> str | None:
    value = os.environ.get("CA_BUNDLE")
    if value is None:
        value = DEFAULT_CA_BUNDLE if Path(DEFAULT_CA_BUNDLE).is_file() else ""
    if value and not Path(value).is_file():
        raise Fail(f"CA_BUNDLE={value} is not a file", 2)
    return value or None


def base_ref(image: Image) -> str:
    """The image ``image`` builds FROM: the OS base for the base Dockerfile, else the
    project's base-runtime, cuda-libs or base-ml (same accelerator flavour)."""
    if image.base is None:
        return os_base_image()
    suffix = image.tag_suffix if image.base == "base-ml" else ""
    return f"{image_prefix()}/{image.base}:{image_tag()}{suffix}"


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


def build_args(image: Image, wheels: str) -> list[str]:
    args = ["--build-arg", f"BASE_IMAGE={base_ref(image)}", "--build-arg", f"WHEELS={wheels}"]
    for key, value in image.build_args:
        args += ["--build-arg", f"{key}={value}"]
    if image.name == "base-ml":
        index = torch_index_url(image.tag_suffix == "-cpu")
        if index is not None:
            args += ["--build-arg", f"TORCH_INDEX_URL={index}"]
    return args


def image_label(ref: str) -> str | None:
    result = quiet([*docker(), "image", "inspect", "--format", f'{{{{index .Config.Labels "{SOURCE_LABEL}"}}}}', ref])
    return result.stdout.strip() if result.returncode == 0 else None


def build_image(image: Image, wheels: str, source: str) -> float:
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
    if run(full, env=env) != 0:
        raise Fail(f"building {ref} failed (the build output above says why)")
    return time.perf_counter() - started


def check_buildable(image: Image) -> None:
    """A stage declared in shared/graph.py needs its Dockerfile and its package."""
    if not (REPO_ROOT / image.dockerfile).is_file():
        raise Fail(f"stage {image.name} is in shared/graph.py but has no {image.dockerfile}: run make compose-files "
                   f"(docs/CONTAINERS.md, 'Adding a stage'), or switch the stage off with SKIP_STAGES={image.name}")
    spec = next((s for s in graph.STAGES if s.name == image.name), None)
    if spec is not None:
        main = REPO_ROOT / Path(*spec.module.split(".")) / "__main__.py"
        if not main.is_file():
            raise Fail(f"stage {spec.name} is in shared/graph.py but {main.relative_to(REPO_ROOT)} is missing")


def wheels_setting(wheels: str | None = None) -> str:
    wheels = wheels or os.environ.get("WHEELS") or "index"
    if wheels not in ("index", "wheelhouse"):
        raise Fail(f"WHEELS must be index or wheelhouse, not {wheels!r}", 2)
    if wheels == "wheelhouse" and not any((REPO_ROOT / "wheelhouse").glob("*.whl")):
        raise Fail("WHEELS=wheelhouse but ./wheelhouse has no wheels: run make wheelhouse first", 2)
    return wheels


def ensure_images(profile: str, stages: list[str] | None = None, missing_only: bool = True,
                  wheels: str | None = None, tools: bool = True, api: bool = False) -> dict[str, float]:
    """Build the images of a profile in order (bases first): those of ``stages`` (default all),
    their bases, with ``tools`` the tool images, with ``api`` the service's. With ``missing_only``,
    only those missing or out of date (their source label differs). Returns seconds per image built."""
    wheels = wheels_setting(wheels)
    wanted = [*images(profile, stages, tools=tools), *([API_IMAGE] if api else [])]
    for image in wanted:
        check_buildable(image)
    hashes: dict[str, str] = {}
    timings = {}
    for image in wanted:
        ref = image.ref(image_prefix(), image_tag())
        source = source_hash(image, wheels, hashes)
        if missing_only and image_label(ref) == source:
            continue
        if missing_only:
            say(f"{ref} is {'out of date' if image_exists(ref) else 'missing'}")
        timings[ref] = build_image(image, wheels, source)
    if timings:  # the images just replaced, left untagged: only this project's (by label), only unused ones
        quiet([*docker(), "image", "prune", "-f", "--filter", f"label={SOURCE_LABEL}"])
    return timings


# --- the wheelhouse ------------------------------------------------------------------------------


def requirement_files(profile: str) -> list[tuple[str, bool]]:
    """(path, no_deps) of every requirements file the profile's images install (not torch's:
    it comes from its own index, docs/CONTAINERS.md; not the pin list)."""
    found: list[tuple[str, bool]] = []
    for image in [*images(profile), API_IMAGE]:
        if image.name == "base-ml":
            continue
        for path in sources(image):
            name = path.rsplit("/", 1)[-1]
            if path.startswith("docker/") and name.startswith("requirements") and name.endswith(".txt"):
                entry = (path, "nodeps" in name)
                if entry not in found:
                    found.append(entry)
    return found


def wheelhouse(profile: str, container_user: tuple[int, int], make_writable) -> int:
    """Every wheel the profile's images install, once, into ./wheelhouse (built in the
    base image, so the wheels match its Python and platform)."""
    ensure_images(profile, [], tools=False)
    out = REPO_ROOT / "wheelhouse"
    uid, gid = container_user
    make_writable([out], uid, gid)
    image = images(profile, [])[0].ref(image_prefix(), image_tag())
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
    code = run(cmd)
    if code == 0:
        wheels = list(out.glob("*.whl"))
        size = sum(p.stat().st_size for p in wheels) / 1e6
        say(f"wheelhouse: {len(wheels)} wheels, {size:.0f} MB in {out} ({time.perf_counter() - started:.0f} s); "
            "build from it with: make images WHEELS=wheelhouse")
    return code
