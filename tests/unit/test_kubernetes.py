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
    assert mounts == {"/jobs": False, "/shared-model-and-cache": False, "/media": True, "/tmp": False}
    scaled = load(f"scaledobject-{spec.name}.yaml")
    assert scaled["spec"]["scaleTargetRef"]["name"] == worker["metadata"]["name"]
    assert scaled["spec"]["minReplicaCount"] == 0  # scale to zero
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis" and trigger["metadata"]["listName"] == queue_of(spec.name, "gpu")


def test_storage_every_worker_shares():
    for claim in ("jobs", "models", "media"):
        assert load(f"pvc-{claim}.yaml")["spec"]["accessModes"] == ["ReadWriteMany"]
    redis = load("redis-deployment.yaml")["spec"]
    assert redis["replicas"] == 1 and redis["strategy"]["type"] == "Recreate"
    assert redis["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "redis-data"


def test_yaml_writer_quotes_what_yaml_would_misread():
    data = {"a": "yes", "b": "8Gi", "c": "-m", "d": "plain", "e": [], "f": {}, "g": [{"x": 1, "y": ["1"]}], "h": True}
    assert yaml.safe_load("\n".join(k8s.to_yaml(data))) == data
