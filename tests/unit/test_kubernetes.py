"""deploy/kubernetes/ is what host/queue/kubernetes.py generates from the graph, and every core
manifest is valid against the Kubernetes API schema (kubernetes-validate ships the schemas: offline)."""

from __future__ import annotations

import pytest
import yaml

from fleet.queues import queue_of
from host.queue import kubernetes as k8s
from shared import graph

FILES = sorted(p.name for p in k8s.OUT_DIR.glob("*.yaml"))
KUBERNETES_VERSION = "1.33"


def load(name: str) -> dict:
    return yaml.safe_load((k8s.OUT_DIR / name).read_text())


def test_committed_manifests_are_the_generated_ones():
    assert k8s.main(["--check"]) == 0, "run: python3 -m host.queue.kubernetes"
    assert set(FILES) == {*k8s.manifests(), "kustomization.yaml"}


def test_kustomization_lists_every_manifest_once():
    kustomization = load("kustomization.yaml")
    assert kustomization["namespace"] == k8s.NAMESPACE
    assert sorted(kustomization["resources"]) == sorted(n for n in FILES if n != "kustomization.yaml")


@pytest.mark.parametrize("name", [n for n in FILES if n != "kustomization.yaml" and not n.startswith("scaledobject-")])
def test_core_manifest_is_valid_against_the_kubernetes_schema(name):
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    kubernetes_validate.validate(load(name), KUBERNETES_VERSION, strict=True)


def test_the_schema_check_can_fail():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    broken = load("worker-asr.yaml")
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = "yes"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def pods() -> list[tuple[str, dict]]:
    found = []
    for name in FILES:
        resource = load(name)
        if resource["kind"] in ("Deployment", "Job"):
            found.append((name, resource["spec"]["template"]["spec"]))
    return found


def test_every_pod_is_a_guest():
    assert pods()
    for name, pod in pods():
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 1000, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name


@pytest.mark.parametrize("spec", graph.STAGES, ids=lambda s: s.name)
def test_a_worker_and_a_scaled_object_per_stage(spec):
    worker = load(f"worker-{spec.name}.yaml")
    container = worker["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "fleet.worker"]
    assert container["args"] == ["--stage", spec.name, "--profile", "gpu"]
    gpu = spec.device == "cuda-or-cpu"
    assert ("nvidia.com/gpu" in container["resources"]["limits"]) == gpu
    assert container["image"].endswith("-cuda") == gpu
    mounts = {m["mountPath"]: m.get("readOnly", False) for m in container["volumeMounts"]}
    assert mounts == {"/jobs": False, "/shared-model-and-cache": False, "/media": True, "/service-data": True,
                      "/tmp": False}
    scaled = load(f"scaledobject-{spec.name}.yaml")
    assert scaled["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]
    assert scaled["spec"]["minReplicaCount"] == 0  # scale to zero
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis" and trigger["metadata"]["listName"] == queue_of(spec.name, "gpu")


def test_storage_every_worker_shares():
    for claim in ("jobs", "models", "media", "service-data"):
        assert load(f"pvc-{claim}.yaml")["spec"]["accessModes"] == ["ReadWriteMany"]
    redis = load("redis-deployment.yaml")["spec"]
    assert redis["replicas"] == 1 and redis["strategy"]["type"] == "Recreate"
    assert redis["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "redis-data"


def api_container() -> tuple[dict, dict]:
    pod = load("api-deployment.yaml")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    return pod, container


def test_the_api_runs_the_service_on_the_queue_like_the_compose_api():
    deployment = load("api-deployment.yaml")
    assert deployment["kind"] == "Deployment" and deployment["spec"]["replicas"] == 1
    pod, container = api_container()
    assert container["image"] == f"{k8s.IMAGE_PREFIX}/api:latest"
    assert container["command"] == ["python", "-m", "host.service"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["SERVICE_EXECUTOR"] == "queue"
    assert env["QUEUE_PROFILE"] == "gpu"  # the queues the workers here consume (--profile gpu)
    assert env["HOST"] == "0.0.0.0" and env["PORT"] == "9000"
    assert env["SERVICE_DATA_DIR"] == "/service-data" and env["LIBRARY_ROOT"] == "/media"
    assert {"MAX_UPLOAD_MB", "LANGUAGE_DETECTION_MODEL"} <= set(env)
    assert "API_LOOPBACK_PUBLISHED" not in env  # the cluster's network reaches it: a token is needed
    assert container["envFrom"] == [{"configMapRef": {"name": "queue-settings"}}]  # broker, JOBS_DIR, MODEL_CACHE
    assert {p["containerPort"] for p in container["ports"]} == {9000}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["tcpSocket"]["port"] == "http", probe  # no health route without the token
    assert "memory" in container["resources"]["limits"] and "nvidia.com/gpu" not in container["resources"]["limits"]
    assert pod["automountServiceAccountToken"] is False


def test_the_api_token_comes_from_a_secret_never_a_literal():
    _, container = api_container()
    (token,) = [e for e in container["env"] if e["name"] == "API_TOKEN"]
    assert "value" not in token
    ref = token["valueFrom"]["secretKeyRef"]
    assert ref == {"name": k8s.API_SECRET, "key": k8s.API_SECRET_KEY, "optional": True}
    assert not any("TOKEN" in key for key in load("configmap.yaml")["data"])


def test_uploads_are_written_by_the_api_and_read_only_in_every_worker():
    """An upload is its job's input: demux reads it where the api stored it (as in compose)."""
    assert load("pvc-service-data.yaml")["spec"]["accessModes"] == ["ReadWriteMany"]
    pod, container = api_container()
    mounts = {m["mountPath"]: m.get("readOnly", False) for m in container["volumeMounts"]}
    assert mounts == {"/jobs": False, "/shared-model-and-cache": False, "/media": True, "/service-data": False,
                      "/tmp": False}
    claims = {v["name"]: v for v in pod["volumes"]}
    assert claims["service-data"]["persistentVolumeClaim"] == {"claimName": "service-data"}
    assert "emptyDir" in claims["tmp"]  # uploads are spooled in /tmp; the root filesystem is read-only
    for spec in graph.STAGES:
        worker = load(f"worker-{spec.name}.yaml")["spec"]["template"]["spec"]
        (uploads,) = [m for m in worker["containers"][0]["volumeMounts"] if m["name"] == "service-data"]
        assert uploads == {"name": "service-data", "mountPath": "/service-data", "readOnly": True}, spec.name
        (claim,) = [v for v in worker["volumes"] if v["name"] == "service-data"]
        assert claim["persistentVolumeClaim"] == {"claimName": "service-data", "readOnly": True}, spec.name


def test_the_api_service_selects_the_api_pods_inside_the_cluster_only():
    service = load("api-service.yaml")
    assert service["spec"]["type"] == "ClusterIP"
    pod_labels = load("api-deployment.yaml")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert load("api-deployment.yaml")["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    worker_labels = load("worker-asr.yaml")["spec"]["template"]["metadata"]["labels"]
    assert not service["spec"]["selector"].items() <= worker_labels.items()
    (port,) = service["spec"]["ports"]
    assert port["port"] == 9000 and port["targetPort"] == "http"
    _, container = api_container()
    assert "http" in {p["name"] for p in container["ports"]}


def test_the_api_is_applied_and_validated():
    resources = load("kustomization.yaml")["resources"]
    assert {"api-deployment.yaml", "api-service.yaml", "pvc-service-data.yaml"} <= set(resources)
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for name in ("api-deployment.yaml", "api-service.yaml", "pvc-service-data.yaml"):
        kubernetes_validate.validate(load(name), KUBERNETES_VERSION, strict=True)


def test_yaml_writer_quotes_what_yaml_would_misread():
    data = {"a": "yes", "b": "8Gi", "c": "-m", "d": "plain", "e": [], "f": {}, "g": [{"x": 1, "y": ["1"]}], "h": True}
    assert yaml.safe_load("\n".join(k8s.to_yaml(data))) == data
