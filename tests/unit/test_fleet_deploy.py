"""The queue profile of both compose files: Redis from the local image, a worker per stage image,
started only with the profile (make run and make batch never see them)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from fleet.queues import PROFILES
from host.containers.cli import Fail
from host.queue import compose as queue
from host.queue.fleet import build_parser, parse_workers
from shared import graph
from tests.conftest import REPO_ROOT

FILES = {"gpu": "docker-compose.yml", "cpu": "docker-compose-fallback.yml"}


def services(profile: str) -> dict:
    return yaml.safe_load((REPO_ROOT / FILES[profile]).read_text())["services"]


@pytest.mark.parametrize("profile", PROFILES)
def test_redis_and_one_worker_per_stage_in_the_queue_profile_only(profile):
    found = services(profile)
    in_queue = [name for name, svc in found.items() if "queue" in svc.get("profiles", [])]
    assert in_queue == [queue.REDIS, *(queue.worker_service(s.name) for s in graph.topological_order()), queue.API, queue.WATCH]
    redis = found[queue.REDIS]
    assert redis["image"].endswith("/redis:${IMAGE_TAG:-latest}") and redis["pull_policy"] == "never"
    assert redis["volumes"] == [f"{queue.REDIS_VOLUME}:/data"]
    for spec in graph.STAGES:
        worker = found[queue.worker_service(spec.name)]
        stage = found[spec.name]
        assert worker["image"] == stage["image"], "a worker runs its stage's own image"
        assert worker["entrypoint"] == ["python", "-m", "fleet.worker"]
        assert worker["command"] == ["--stage", spec.name, "--profile", profile]
        assert worker["read_only"] is True and worker["cap_drop"] == ["ALL"] and "container_name" not in worker
        assert worker["user"].startswith("${PIPELINE_UID:-1000}")
        assert worker["environment"]["QUEUE_BROKER_URL"] == queue.REDIS_URL
        assert "SKIP_STAGES" not in worker["environment"], "a job's record says what is off, not the worker"
        assert set(stage["environment"]) - set(worker["environment"]) <= {"JOB_MEDIA_PATH", "SKIP_STAGES", "FORCE_STAGES",
                                                                          "JOB_LOCK_TOKEN"}
        assert ("deploy" in worker) == (profile == "gpu" and spec.device == "cuda-or-cpu")


@pytest.mark.parametrize("profile", PROFILES)
def test_docker_compose_reads_the_queue_profile(profile):
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode:
        pytest.skip("docker compose is not installed")
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "JOB_ID": "x", "INPUT_DIR": "/tmp", "INPUT_NAME": "x", "MEDIA_DIR": "/srv"}
    base = [docker, "compose", "-f", str(REPO_ROOT / FILES[profile])]
    with_queue = subprocess.run([*base, "--profile", "queue", "config", "--services"], env=env, capture_output=True,
                                text=True, timeout=60)
    assert with_queue.returncode == 0, with_queue.stderr
    assert {"asr-worker", "redis", "api"} <= set(with_queue.stdout.split())
    without = subprocess.run([*base, "config", "--services"], env=env, capture_output=True, text=True, timeout=60)
    assert sorted(without.stdout.split()) == sorted([*(s.name for s in graph.STAGES), "models"])


@pytest.mark.parametrize("profile", PROFILES)
def test_the_api_service_runs_the_service_on_the_queue_reachable_from_loopback_only(profile):
    found = services(profile)
    api = found[queue.API]
    assert api["image"] == "${IMAGE_PREFIX:-whisperx-pipeline}/api:${IMAGE_TAG:-latest}" and api["pull_policy"] == "never"
    assert api["entrypoint"] == ["python", "-m", "host.service"] and api["depends_on"] == [queue.REDIS]
    env = api["environment"]
    assert env["SERVICE_EXECUTOR"] == "queue" and env["QUEUE_BROKER_URL"] == queue.REDIS_URL
    assert env["QUEUE_PROFILE"] == f"${{QUEUE_PROFILE:-{profile}}}", "the api publishes to the queues this file's workers consume"
    assert env["HOST"] == "0.0.0.0" and env["API_LOOPBACK_PUBLISHED"] == "true" and "API_TOKEN" in env
    assert api["ports"] == ["127.0.0.1:${PORT:-9000}:9000"], "published on the host's loopback only"
    assert api["read_only"] is True and api["cap_drop"] == ["ALL"] and api["user"].startswith("${PIPELINE_UID:-1000}")
    mounts = {m["target"]: m for m in api["volumes"]}
    assert mounts[queue.SERVICE_DATA_DIR].get("read_only") is not True and env["SERVICE_DATA_DIR"] == queue.SERVICE_DATA_DIR
    assert mounts["/jobs"]["source"] == "${JOBS_DIR:-./jobs}"
    worker = {m["target"]: m for m in found["demux-worker"]["volumes"]}
    assert worker[queue.SERVICE_DATA_DIR]["read_only"] is True, "a worker reads the api's uploads at the same path"
    assert worker[queue.SERVICE_DATA_DIR]["source"] == mounts[queue.SERVICE_DATA_DIR]["source"]


@pytest.mark.parametrize("profile", PROFILES)
def test_the_watch_service_writes_beside_the_films_and_hands_jobs_to_the_queue(profile):
    watch = services(profile)[queue.WATCH]
    assert watch["image"] == services(profile)[queue.API]["image"] and "ports" not in watch
    assert watch["entrypoint"] == ["python", "-m", "host.service.watch"] and watch["command"] == ["${WATCH_DIR:-/films}"]
    assert watch["environment"]["SERVICE_EXECUTOR"] == "queue"
    mounts = {m["target"]: m for m in watch["volumes"]}
    assert mounts["${MEDIA_DIR:-/films}"].get("read_only") is not True, "the SRT is written beside the film"


def test_fleet_up_watches_only_a_folder_inside_the_media_folder(tmp_path, monkeypatch):
    from host.queue.fleet import watch_dir

    media = tmp_path / "films"
    (media / "shows").mkdir(parents=True)
    monkeypatch.delenv("WATCH_DIR", raising=False)
    assert watch_dir(media) is None
    monkeypatch.setenv("WATCH_DIR", str(media / "shows"))
    assert watch_dir(media) == media / "shows"
    monkeypatch.setenv("WATCH_DIR", str(tmp_path))
    with pytest.raises(Fail, match="must be a folder in MEDIA_DIR"):
        watch_dir(media)


def test_the_service_listens_beyond_loopback_only_with_a_token_or_a_loopback_published_port():
    from host.service.app import check_listen
    from host.service.options import ServiceOptions

    with pytest.raises(SystemExit, match="API_TOKEN is empty.*API_LOOPBACK_PUBLISHED=true"):
        check_listen(ServiceOptions(host="0.0.0.0"))
    check_listen(ServiceOptions(host="0.0.0.0", api_token="a-long-random-token"))
    check_listen(ServiceOptions(host="0.0.0.0", loopback_published=True))
    check_listen(ServiceOptions(host="127.0.0.1"))


def test_fleet_up_starts_the_api_unless_told_not_to():
    assert build_parser().parse_intermixed_args(["up"]).api is True
    assert build_parser().parse_intermixed_args(["up", "--no-api", "asr=2"]).api is False


def test_workers_setting():
    counts = parse_workers(["asr=2 diarization=0"])
    assert counts["asr"] == 2 and counts["diarization"] == 0 and counts["subtitles"] == 1
    for bad in ("asr", "asr=two", "nope=1"):
        with pytest.raises(Fail):
            parse_workers([bad])


def test_make_fleet_up_passes_workers_after_the_options():
    args = build_parser().parse_intermixed_args(["up", "--profile=cpu", "--media-dir=films", "asr=2", "diarization=1"])
    assert args.command == "up" and args.profile == "cpu" and args.workers == ["asr=2", "diarization=1"]
