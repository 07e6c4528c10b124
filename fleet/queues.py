"""Queue names from the graph: one per stage and device class.

A stage the graph runs on the CPU has one queue, its name (``subtitles``); a stage that uses a
GPU when there is one (device ``cuda-or-cpu``) has two, ``<stage>.gpu`` and ``<stage>.cpu``, and a
job's profile says which of them its tasks go to. Workers in the ``-cuda`` image of a stage
consume its ``.gpu`` queue, workers in the ``-cpu`` image its ``.cpu`` queue.
"""

from __future__ import annotations

from shared import graph

PROFILES = ("cpu", "gpu")


def uses_gpu(stage: str) -> bool:
    return graph.stage(stage).device == "cuda-or-cpu"


def queue_of(stage: str, profile: str) -> str:
    """The queue a job of ``profile`` sends ``stage`` to."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; profiles are: {', '.join(PROFILES)}")
    return f"{stage}.{profile}" if uses_gpu(stage) else stage


def queues_of_stage(stage: str) -> tuple[str, ...]:
    """Every queue of one stage (both device classes of a GPU stage)."""
    return tuple(queue_of(stage, p) for p in PROFILES) if uses_gpu(stage) else (stage,)


def queues(profile: str) -> tuple[str, ...]:
    """Every queue a job of ``profile`` uses, graph order."""
    return tuple(queue_of(s.name, profile) for s in graph.topological_order())


def all_queues() -> tuple[str, ...]:
    return tuple(q for s in graph.topological_order() for q in queues_of_stage(s.name))


def parse_queue(name: str) -> tuple[str, str | None]:
    """``asr.gpu`` -> (``asr``, ``gpu``); ``subtitles`` -> (``subtitles``, None). Unknown: ValueError."""
    if name not in all_queues():
        raise ValueError(f"unknown queue {name!r}; queues are: {', '.join(all_queues())}")
    stage, _, device = name.partition(".")
    return stage, device or None
