"""Image benchmark: what the container layer costs in disk and rebuild time.

    python3 -m bench.images [--profile cpu] [--cuda] [--skip-rebuilds] [--smoke]

Standard library only (the host's python3), needs docker. It measures:

1. size of every image of the profile, and the bytes the whole set takes on
   disk (each layer counted once; the ratio to the sum of image sizes is
   what layer sharing saves);
2. warm rebuilds, on a copy of the build inputs under a separate image
   prefix (your images and your working tree are left alone): no change, a
   one-line change in one stage's code, in shared/, and in one stage's
   requirements; for each, the seconds and which images got a new id;
3. with --cuda, the same sizes for the gpu profile (asr with the CUDA 12
   libraries, base-ml with CUDA torch): several GB to download.

Layer sizes are read from the overlay2 folders docker reports
(GraphDriver.Data), so the unique-bytes figure needs root and the overlay2
storage driver; otherwise it is reported as unavailable. Results are printed
and written to bench/results/images.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "bench" / "results" / "images.json"
BENCH_PREFIX = "whisperx-pipeline-bench"
COPIED = ("docker", "shared", "stages", "pyproject.toml")


def load_driver(root: Path):
    """The container executor's images module (host/containers/images.py), building from ``root``:
    the repository, or a copy of its build inputs. It is also the image set (``images``)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from host.containers import images

    images.REPO_ROOT = root
    return images


def docker(*args: str) -> str:
    cli = (os.environ.get("DOCKER") or "docker").split()
    return subprocess.run([*cli, *args], capture_output=True, text=True, check=True).stdout


def inspect(ref: str) -> dict:
    return json.loads(docker("image", "inspect", ref))[0]


def layer_dirs(info: dict) -> list[str]:
    data = info.get("GraphDriver", {}).get("Data") or {}
    dirs = [data["UpperDir"]] if data.get("UpperDir") else []
    dirs += [d for d in (data.get("LowerDir") or "").split(":") if d]
    return dirs


def du_bytes(path: str) -> int:
    out = subprocess.run(["du", "-sb", path], capture_output=True, text=True)
    return int(out.stdout.split()[0]) if out.returncode == 0 and out.stdout else 0


def sizes(refs: list[str]) -> dict:
    """Per-image size and the set's size on disk (every layer once)."""
    infos = {ref: inspect(ref) for ref in refs}
    per_image = {ref: info["Size"] for ref, info in infos.items()}
    result = {"images": per_image, "sum_of_image_sizes": sum(per_image.values())}
    dirs = {d for info in infos.values() for d in layer_dirs(info)}
    if dirs and all(os.access(d, os.R_OK) for d in dirs):
        result["unique_bytes"] = sum(du_bytes(d) for d in dirs)
        result["layers"] = len(dirs)
    else:
        result["unique_bytes"] = None
        result["why_unavailable"] = "layer folders not readable (needs root and overlay2)"
    return result


def gb(n: int | None) -> str:
    return f"{n / 1e9:.2f} GB" if n is not None else "n/a"


def print_sizes(title: str, data: dict) -> None:
    print(f"\n{title}")
    for ref, size in sorted(data["images"].items()):
        print(f"  {ref:<52}{gb(size):>10}")
    print(f"  {'sum of image sizes':<52}{gb(data['sum_of_image_sizes']):>10}")
    if data["unique_bytes"] is not None:
        ratio = data["unique_bytes"] / data["sum_of_image_sizes"]
        print(f"  {'on disk, each layer once':<52}{gb(data['unique_bytes']):>10}   ({ratio:.2f} of the sum, "
              f"{data['layers']} layers)")
    else:
        print(f"  on disk, each layer once: {data['why_unavailable']}")


# --- targets --------------------------------------------------------------------------------------

TORCH_FREE_IMAGE_MAX_BYTES = 500_000_000
GPU_SET_MAX_BYTES = 9_000_000_000
CPU_TORCH_SET_MAX_BYTES = 3_000_000_000

# Measured inside base-ml: what a CUDA build of torch carries that the +cpu build from
# PyTorch's index does not (the nvidia-* wheels, triton, torch's own CUDA libraries).
CUDA_ONLY_FILES = """
import glob, os, site, sys, torch
sp = site.getsitepackages()[0]
def size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs
               if not os.path.islink(os.path.join(d, f)))
paths = glob.glob(os.path.join(sp, "nvidia")) + glob.glob(os.path.join(sp, "triton"))
paths += [p for p in glob.glob(os.path.join(sp, "torch", "lib", "*")) if "cuda" in os.path.basename(p)
          or os.path.basename(p).startswith(("libcudnn", "libnccl", "libcublas", "libcusparse", "libnvrtc"))]
print(torch.version.cuda or "", sum(size(p) for p in paths))
"""


def cuda_only_bytes(ref: str) -> tuple[str, int]:
    """(CUDA version of the image's torch or "", bytes of its CUDA-only files)."""
    out = docker("run", "--rm", "--network", "none", "--entrypoint", "python", ref, "-c", CUDA_ONLY_FILES).split()
    return (out[0], int(out[1])) if len(out) == 2 else ("", int(out[0]))


def check(label: str, value: int | None, limit: int, note: str = "") -> dict:
    ok = value is not None and value <= limit
    print(f"  {'ok  ' if ok else 'MISS'} {label:<58}{gb(value):>10}  (target <= {gb(limit)}){note}")
    return {"what": label, "bytes": value, "limit": limit, "ok": ok}


def targets(profile: str, data: dict, torch_free: list[str], base_ml: str | None, torch_set: dict | None) -> list[dict]:
    """The issue's size targets, each printed ok or MISS with its figure."""
    print(f"\ntargets ({profile} profile)")
    rows = [check(f"{ref.split('/')[-1]} (a stage without torch)", data["images"][ref], TORCH_FREE_IMAGE_MAX_BYTES)
            for ref in torch_free]
    if profile == "gpu":
        rows.append(check("gpu set, each layer once", data["unique_bytes"], GPU_SET_MAX_BYTES))
    elif base_ml and torch_set and torch_set.get("unique_bytes") is not None:
        cuda, extra = cuda_only_bytes(base_ml)
        if cuda:  # PyPI's CUDA torch stood in for the +cpu build (PyTorch's index unreachable)
            estimate = torch_set["unique_bytes"] - extra
            rows.append(check("cpu torch images, each layer once (estimate)", estimate, CPU_TORCH_SET_MAX_BYTES,
                              f"\n       estimated: measured {gb(torch_set['unique_bytes'])} with PyPI's CUDA {cuda} torch, "
                              f"less its CUDA-only files ({gb(extra)}: nvidia-*, triton, torch/lib/*cuda*)"))
        else:
            rows.append(check("cpu torch images, each layer once", torch_set["unique_bytes"], CPU_TORCH_SET_MAX_BYTES))
    return rows


# --- rebuilds -------------------------------------------------------------------------------------


def copy_inputs(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".partial")
    for name in COPIED:
        src = REPO_ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        elif src.is_file():
            shutil.copy2(src, dest / name)


def image_ids(driver, profile: str, stages: list[str]) -> dict[str, str]:
    ids = {}
    for image in driver.images(profile, stages):
        ref = image.ref(driver.image_prefix(), driver.image_tag())
        ids[image.name] = docker("image", "inspect", "--format", "{{.Id}}", ref).strip()
    return ids


def timed_build(driver, profile: str, stages: list[str]) -> tuple[float, list[str]]:
    before = image_ids(driver, profile, stages)
    started = time.perf_counter()
    driver.ensure_images(profile, stages, missing_only=True)
    seconds = time.perf_counter() - started
    after = image_ids(driver, profile, stages)
    return seconds, [name for name in after if after[name] != before.get(name)]


def rebuilds(profile: str, stages: list[str]) -> list[dict]:
    """Warm rebuild times on a copy of the inputs, under BENCH_PREFIX."""
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-images-") as tmp:
        root = Path(tmp)
        copy_inputs(root)
        os.environ["IMAGE_PREFIX"] = BENCH_PREFIX
        driver = load_driver(root)
        graph = importlib.import_module("shared.graph")
        started = time.perf_counter()
        driver.ensure_images(profile, stages, missing_only=False)  # warm: every layer is in the build cache
        results.append({"change": "first build under a new name (warm cache)",
                        "seconds": round(time.perf_counter() - started, 1), "rebuilt": ["all"]})
        seconds, changed = timed_build(driver, profile, stages)
        results.append({"change": "none", "seconds": round(seconds, 1), "rebuilt": changed})

        def edit(path: str, line: str, change: str) -> None:
            with open(root / path, "a") as handle:
                handle.write(line)
            seconds, changed = timed_build(driver, profile, stages)
            results.append({"change": change, "seconds": round(seconds, 1), "rebuilt": changed})

        asr = graph.stage("asr")
        edit(f"{asr.module.replace('.', '/')}/stage.py", "\n# bench: a one-line code change\n",
             "one line in stages/asr/stage.py")
        edit("shared/errors.py", "\n# bench: a one-line change in shared/\n", "one line in shared/errors.py")
        edit("docker/requirements-subtitles.txt", "# bench: a requirements change\n",
             "docker/requirements-subtitles.txt")
        edit("docker/requirements-asr.txt", "# bench: a requirements change\n", "docker/requirements-asr.txt")
        refs = docker("images", "--filter", f"reference={BENCH_PREFIX}/*", "-q").split()
        if refs:
            subprocess.run([*(os.environ.get("DOCKER") or "docker").split(), "image", "rm", "-f", *sorted(set(refs))],
                           capture_output=True)
        os.environ.pop("IMAGE_PREFIX")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m bench.images", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu", choices=("cpu", "gpu"))
    parser.add_argument("--cuda", action="store_true", help="also build and measure the gpu profile")
    parser.add_argument("--skip-rebuilds", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="sizes of the images already built (builds what is missing), no rebuilds, no results file: "
                             "checks the bench runs (.ci/containers.sh, after make images)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.skip_rebuilds, args.cuda = True, False
    driver = load_driver(REPO_ROOT)
    graph = importlib.import_module("shared.graph")
    skip = graph.parse_skip(os.environ.get("SKIP_STAGES"))
    stages = [s.name for s in graph.topological_order() if s.name not in skip]
    gen = driver  # the image set
    report: dict = {"skip_stages": sorted(skip)}

    profiles = [args.profile] + (["gpu"] if args.cuda and args.profile != "gpu" else [])
    for profile in profiles:
        started = time.perf_counter()
        built = driver.ensure_images(profile, stages, missing_only=True)
        refs = [i.ref(driver.image_prefix(), driver.image_tag()) for i in gen.images(profile, stages)]
        data = sizes(refs)
        data["build_seconds_this_run"] = round(time.perf_counter() - started, 1)
        data["built_this_run"] = {ref: round(s, 1) for ref, s in built.items()}
        report[profile] = data
        print_sizes(f"{profile} profile: {len(refs)} images", data)
        torch_names = {"base-ml"} | {s.name for s in graph.STAGES if "torch" in s.packages}
        every = gen.images(profile, stages)
        refs_of = lambda names, keep, every=every: [i.ref(driver.image_prefix(), driver.image_tag())  # noqa: E731
                                                    for i in every if (i.name in names) == keep]
        torch_free, torch_refs = refs_of(torch_names, False), refs_of(torch_names, True)
        torch_set = None
        if profile == args.profile and len(torch_free) < len(refs):
            lean = sizes(torch_free)
            report[f"{profile}_without_torch_stages"] = lean
            print(f"  without the torch stages (base-ml and above): {gb(lean['unique_bytes'])} on disk")
            torch_set = sizes(torch_refs)
            report[f"{profile}_torch_stages"] = torch_set
            print(f"  the torch stages and base-ml alone: {gb(torch_set['unique_bytes'])} on disk")
        # the per-image target: stage images that need no torch (on the gpu profile, asr's
        # CUDA libraries are its job: only the CPU-only stages are held to it there)
        stage_names = {s.name for s in graph.STAGES if "torch" not in s.packages
                       and (profile == "cpu" or not gen.has_accelerator(s))}
        stage_refs = refs_of(stage_names, True)
        base_ml = next((r for r in torch_refs if "/base-ml:" in r), None)
        report[f"{profile}_targets"] = targets(profile, data, stage_refs, base_ml, torch_set)

    if not args.skip_rebuilds:
        results = rebuilds(args.profile, stages)
        report["rebuilds"] = results
        print(f"\nwarm rebuilds ({args.profile} profile, on a copy of the inputs)")
        print(f"  {'change':<46}{'seconds':>8}  images with a new id")
        for r in results:
            print(f"  {r['change']:<46}{r['seconds']:>8}  {', '.join(r['rebuilt']) or '-'}")
    if args.smoke:
        return 0
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(f"\nwritten: {RESULTS.relative_to(REPO_ROOT)}")
    return 0


def run_main(argv: list[str] | None = None) -> int:
    """main, with the container executor's failures (docker down, a build that broke) as one line."""
    from host.containers.cli import Fail

    try:
        return main(argv)
    except Fail as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(run_main())
