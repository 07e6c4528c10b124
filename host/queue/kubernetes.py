"""Kubernetes manifests for the queue executor, generated from the graph into ``deploy/kubernetes/``.

    python3 -m host.queue.kubernetes            # rewrite deploy/kubernetes/
    python3 -m host.queue.kubernetes --check    # exit 1 if a file there is out of date

One resource per file, listed in ``kustomization.yaml`` (``kubectl apply -k deploy/kubernetes``):
Redis (Debian's redis-server image, append-only file on its own PVC), ReadWriteMany PVCs for the
jobs, the model cache, the media and the api's uploads (``service-data``), a Job seeding the
embedded models, the api (host/service in its torch-free image with ``SERVICE_EXECUTOR=queue``,
as the compose ``api`` service; a ClusterIP Service on port 9000, its token from the Secret
``api-token``), one Deployment per stage worker (GPU stages on their ``-cuda`` image with
``nvidia.com/gpu: 1`` and their ``.gpu`` queue; the uploads mounted read-only, since an upload is
its job's input), and a KEDA ScaledObject per queue that scales its worker from zero on the
queue's length. Every pod runs as uid 1000 with a read-only root filesystem, no privilege
escalation and no capabilities. Standard library only; tests/unit/test_kubernetes.py keeps the files equal to
this output and validates the core ones against the Kubernetes schema. docs/SCALE.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from fleet.queues import queue_of, uses_gpu
from host.queue import compose
from host.service.options import ServiceOptions
from shared import graph
from shared.options.queue import QueueOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = REPO_ROOT / "deploy" / "kubernetes"
NAMESPACE = "whisperx-pipeline"
IMAGE_PREFIX = "whisperx-pipeline"
UID = 1000
JOBS_MOUNT, MODELS_MOUNT, MEDIA_MOUNT = "/jobs", "/shared-model-and-cache", "/media"
SERVICE_DATA_MOUNT = compose.SERVICE_DATA_DIR  # the path the api stores uploads at, which their jobs record
VISIBILITY_TIMEOUT_S = QueueOptions.visibility_timeout_s  # the default; a pod may finish its stage within it
LABEL = "app.kubernetes.io/component"
COMMON_LABELS = {"app.kubernetes.io/name": "whisperx-pipeline", "app.kubernetes.io/part-of": "whisperx-pipeline"}

# What one worker asks for; docs/SCALE.md explains how to size them.
GPU_RESOURCES = {"requests": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": "1"},
                 "limits": {"memory": "16Gi", "nvidia.com/gpu": "1"}}
CPU_RESOURCES = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "6Gi"}}
MAX_REPLICAS = {"gpu": 4, "cpu": 8}
STORAGE = {"jobs": "500Gi", "models": "100Gi", "media": "1Ti", "service-data": "200Gi"}
# The api: compose sets it no memory limit; it holds requests being streamed to disk and, once
# /detect-language is called, the embedded multilingual Whisper base (about 0.5 GiB with CTranslate2).
API_RESOURCES = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}}
API_PORT = compose.API_PORT
API_SECRET, API_SECRET_KEY = "api-token", "API_TOKEN"  # kubectl create secret generic api-token --from-literal=API_TOKEN=...


def metadata(name: str, component: str) -> dict[str, Any]:
    return {"name": name, "labels": {**COMMON_LABELS, LABEL: component}}


def pod_security() -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID, "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"}}


def container_security() -> dict[str, Any]:
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "privileged": False,
            "capabilities": {"drop": ["ALL"]}}


def pvc(name: str, size: str, mode: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata(name, "storage"),
            "spec": {"accessModes": [mode], "resources": {"requests": {"storage": size}}}}


def shared_volumes(uploads_writable: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The jobs, the model cache, the media (read-only) and the api's uploads, which only the api
    writes (``uploads_writable``): the workers read an upload where the api stored it, as in compose."""
    uploads_claim: dict[str, Any] = {"claimName": "service-data", **({} if uploads_writable else {"readOnly": True})}
    uploads_mount: dict[str, Any] = {"name": "service-data", "mountPath": SERVICE_DATA_MOUNT,
                                     **({} if uploads_writable else {"readOnly": True})}
    volumes: list[dict[str, Any]] = [{"name": "jobs", "persistentVolumeClaim": {"claimName": "jobs"}},
               {"name": "models", "persistentVolumeClaim": {"claimName": "models"}},
               {"name": "media", "persistentVolumeClaim": {"claimName": "media", "readOnly": True}},
               {"name": "service-data", "persistentVolumeClaim": uploads_claim},
               {"name": "tmp", "emptyDir": {}}]
    mounts: list[dict[str, Any]] = [{"name": "jobs", "mountPath": JOBS_MOUNT}, {"name": "models", "mountPath": MODELS_MOUNT},
              {"name": "media", "mountPath": MEDIA_MOUNT, "readOnly": True}, uploads_mount,
              {"name": "tmp", "mountPath": "/tmp"}]
    return volumes, mounts


def config_map() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata("queue-settings", "config"),
            "data": {"QUEUE_BROKER_URL": "redis://redis:6379/0", "JOBS_DIR": JOBS_MOUNT, "MODEL_CACHE": MODELS_MOUNT,
                     "HOME": "/tmp", "LOG_FORMAT": "json", "QUEUE_VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S)}}


def worker_name(stage: str) -> str:
    return f"{stage}-worker"


def worker(stage: str) -> dict[str, Any]:
    gpu = uses_gpu(stage)
    volumes, mounts = shared_volumes()
    container = {
        "name": "worker",
        "image": f"{IMAGE_PREFIX}/{stage}:latest{'-cuda' if gpu else ''}",
        "imagePullPolicy": "IfNotPresent",
        "command": ["python", "-m", "fleet.worker"],
        "args": ["--stage", stage, "--profile", "gpu"],
        "envFrom": [{"configMapRef": {"name": "queue-settings"}}],
        "resources": GPU_RESOURCES if gpu else CPU_RESOURCES,
        "securityContext": container_security(),
        "volumeMounts": mounts,
    }
    # SIGTERM makes Celery finish its task first: a scale-down never cuts a stage short
    return deployment(worker_name(stage), [container], volumes, replicas=0,  # KEDA scales it (scaledobject-<stage>.yaml)
                      termination_grace_s=VISIBILITY_TIMEOUT_S)


def scaled_object(stage: str) -> dict[str, Any]:
    gpu = uses_gpu(stage)
    return {
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": metadata(worker_name(stage), "autoscaling"),
        "spec": {
            "scaleTargetRef": {"name": worker_name(stage)},
            "minReplicaCount": 0,
            "maxReplicaCount": MAX_REPLICAS["gpu" if gpu else "cpu"],
            "pollingInterval": 15,
            "cooldownPeriod": 300,
            "triggers": [{"type": "redis", "metadata": {
                "address": f"redis.{NAMESPACE}.svc.cluster.local:6379",
                "listName": queue_of(stage, "gpu"), "listLength": "1", "activationListLength": "0"}}],
        },
    }


def api_deployment() -> dict[str, Any]:
    """The compose ``api`` service on the cluster: ``python -m host.service`` in the api image, its
    jobs handed to the workers' queues (the ``gpu`` profile's, which the workers here consume).
    It listens on 0.0.0.0 and so refuses to start without API_TOKEN (the Secret ``api-token``:
    optional here, so a missing one shows as the service's own line naming API_TOKEN in the pod's
    log). /tmp is an emptyDir: multipart uploads are spooled there before they reach /service-data.
    The service has no health route (every route wants the token): the probes open its port."""
    volumes, mounts = shared_volumes(uploads_writable=True)
    env = [{"name": "SERVICE_EXECUTOR", "value": "queue"},
           {"name": "QUEUE_PROFILE", "value": "gpu"},
           {"name": "HOST", "value": "0.0.0.0"},
           {"name": "PORT", "value": str(API_PORT)},
           {"name": "SERVICE_DATA_DIR", "value": SERVICE_DATA_MOUNT},
           {"name": "LIBRARY_ROOT", "value": MEDIA_MOUNT},
           {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": API_SECRET, "key": API_SECRET_KEY, "optional": True}}},
           {"name": "MAX_UPLOAD_MB", "value": str(ServiceOptions.max_upload_mb)},
           {"name": "LANGUAGE_DETECTION_MODEL", "value": ServiceOptions.language_detection_model}]
    probe = {"tcpSocket": {"port": "http"}}
    container = {
        "name": "api",
        "image": f"{IMAGE_PREFIX}/api:latest",
        "imagePullPolicy": "IfNotPresent",
        "command": ["python", "-m", "host.service"],
        "envFrom": [{"configMapRef": {"name": "queue-settings"}}],
        "env": env,
        "ports": [{"containerPort": API_PORT, "name": "http"}],
        "readinessProbe": {**probe, "periodSeconds": 10},
        "livenessProbe": {**probe, "initialDelaySeconds": 15, "periodSeconds": 20, "failureThreshold": 3},
        "resources": API_RESOURCES,
        "securityContext": container_security(),
        "volumeMounts": mounts,
    }
    return deployment("api", [container], volumes, replicas=1)


def api_service() -> dict[str, Any]:
    """Inside the cluster only (ClusterIP): docs/SCALE.md says how to reach it from outside."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata("api", "api"),
            "spec": {"type": "ClusterIP", "selector": {LABEL: "api"},
                     "ports": [{"name": "http", "port": API_PORT, "targetPort": "http"}]}}


def redis_deployment() -> dict[str, Any]:
    container = {
        "name": "redis",
        "image": f"{IMAGE_PREFIX}/redis:latest",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 6379, "name": "redis"}],
        "readinessProbe": {"exec": {"command": ["redis-cli", "ping"]}, "periodSeconds": 5},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": container_security(),
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    return deployment("redis", [container], [{"name": "data", "persistentVolumeClaim": {"claimName": "redis-data"}}],
                      replicas=1, recreate=True)  # Recreate: one writer of the append-only file


def deployment(name: str, containers: list[dict[str, Any]], volumes: list[dict[str, Any]], replicas: int,
               recreate: bool = False, termination_grace_s: int | None = None) -> dict[str, Any]:
    """A Deployment of pods labelled ``name`` that run as every pod here does (pod_security, no
    service-account token)."""
    pod: dict[str, Any] = {"terminationGracePeriodSeconds": termination_grace_s} if termination_grace_s else {}
    pod.update({"automountServiceAccountToken": False, "securityContext": pod_security(),
                "containers": containers, "volumes": volumes})
    spec: dict[str, Any] = {"replicas": replicas}
    if recreate:
        spec["strategy"] = {"type": "Recreate"}
    spec.update({"selector": {"matchLabels": {LABEL: name}},
                 "template": {"metadata": {"labels": {**COMMON_LABELS, LABEL: name}}, "spec": pod}})
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(name, name), "spec": spec}


def redis_service() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata("redis", "redis"),
            "spec": {"selector": {LABEL: "redis"}, "ports": [{"name": "redis", "port": 6379, "targetPort": "redis"}]}}


def models_job() -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": metadata("models-seed", "models"),
        "spec": {"backoffLimit": 2, "template": {
            "metadata": {"labels": {**COMMON_LABELS, LABEL: "models"}},
            "spec": {
                "restartPolicy": "OnFailure",
                "automountServiceAccountToken": False,
                "securityContext": pod_security(),
                "containers": [{
                    "name": "seed", "image": f"{IMAGE_PREFIX}/models:latest", "imagePullPolicy": "IfNotPresent",
                    "args": ["seed"], "env": [{"name": "MODEL_CACHE", "value": MODELS_MOUNT}, {"name": "HOME", "value": "/tmp"}],
                    "securityContext": container_security(),
                    "volumeMounts": [{"name": "models", "mountPath": MODELS_MOUNT}, {"name": "tmp", "mountPath": "/tmp"}],
                }],
                "volumes": [{"name": "models", "persistentVolumeClaim": {"claimName": "models"}}, {"name": "tmp", "emptyDir": {}}],
            }}},
    }


def manifests() -> dict[str, dict[str, Any]]:
    """File name -> resource, kustomization order (storage and Redis before the workers)."""
    found: dict[str, dict[str, Any]] = {
        "namespace.yaml": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": COMMON_LABELS}},
        "configmap.yaml": config_map(),
        "pvc-jobs.yaml": pvc("jobs", STORAGE["jobs"], "ReadWriteMany"),
        "pvc-models.yaml": pvc("models", STORAGE["models"], "ReadWriteMany"),
        "pvc-media.yaml": pvc("media", STORAGE["media"], "ReadWriteMany"),
        "pvc-service-data.yaml": pvc("service-data", STORAGE["service-data"], "ReadWriteMany"),
        "pvc-redis.yaml": pvc("redis-data", "1Gi", "ReadWriteOnce"),
        "redis-deployment.yaml": redis_deployment(),
        "redis-service.yaml": redis_service(),
        "job-models-seed.yaml": models_job(),
        "api-deployment.yaml": api_deployment(),
        "api-service.yaml": api_service(),
    }
    for spec in graph.topological_order():
        found[f"worker-{spec.name}.yaml"] = worker(spec.name)
    for spec in graph.topological_order():
        found[f"scaledobject-{spec.name}.yaml"] = scaled_object(spec.name)
    return found


def kustomization(names: list[str]) -> dict[str, Any]:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "namespace": NAMESPACE,
            "resources": names}


# --- a small YAML writer (block style; strings quoted when YAML could read them as something else)

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./:-]*$")
_SPECIAL = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    return text if _PLAIN.match(text) and text.lower() not in _SPECIAL else json.dumps(text)


def to_yaml(value: Any, indent: int = 0) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{_scalar(key)}:")
                lines += to_yaml(item, indent + (2 if isinstance(item, dict) else 0))
            else:
                empty = "{}" if isinstance(item, dict) else "[]" if isinstance(item, list) else _scalar(item)
                lines.append(f"{pad}{_scalar(key)}: {empty}")
    elif isinstance(value, list):
        for item in value:
            nested = to_yaml(item, indent + 2)
            lines.append(f"{pad}- {nested[0].lstrip()}")
            lines += nested[1:]
    else:
        lines.append(f"{pad}{_scalar(value)}")
    return lines


HEADER = "# GENERATED from shared/graph.py by python3 -m host.queue.kubernetes: do not edit by hand (docs/SCALE.md).\n"


def rendered() -> dict[str, str]:
    files = {name: HEADER + "\n".join(to_yaml(resource)) + "\n" for name, resource in manifests().items()}
    files["kustomization.yaml"] = HEADER + "\n".join(to_yaml(kustomization(list(files)))) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that deploy/kubernetes/ is up to date")
    args = parser.parse_args(argv)
    files = rendered()
    stale = sorted(name for name, text in files.items()
                   if not (OUT_DIR / name).is_file() or (OUT_DIR / name).read_text() != text)
    extra = sorted(p.name for p in OUT_DIR.glob("*.yaml") if p.name not in files) if OUT_DIR.is_dir() else []
    if args.check:
        if stale or extra:
            print(f"deploy/kubernetes is out of date with shared/graph.py: {', '.join(stale + extra)}; "
                  "run: python3 -m host.queue.kubernetes", file=sys.stderr)
            return 1
        return 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (OUT_DIR / name).write_text(files[name])
        print(f"wrote deploy/kubernetes/{name}")
    for name in extra:
        (OUT_DIR / name).unlink()
        print(f"removed deploy/kubernetes/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
