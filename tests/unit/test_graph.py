import importlib.util

import pytest

from shared import graph
from shared.errors import JobError


def test_every_input_is_produced_by_an_earlier_stage():
    seen = {graph.JOB}
    for spec in graph.topological_order():
        for name in spec.inputs:
            assert graph.producer(name) in seen, f"{spec.name} reads {name} before it exists"
        seen.add(spec.name)


def test_every_artifact_has_one_producer_that_declares_it():
    for name, art in graph.ARTIFACTS.items():
        if art.stage != graph.JOB:
            assert name in graph.stage(art.stage).outputs


def test_stage_modules_exist_and_names_agree():
    for spec in graph.STAGES:
        assert spec.module == "stages." + spec.name.replace("-", "_")
        assert importlib.util.find_spec(spec.module) is not None, f"{spec.module} is declared but missing"


def test_downstream_follows_the_graph():
    after_asr = graph.downstream("asr")
    assert after_asr[0] == "asr" and {"subtitles", "mux"} <= set(after_asr) and "demux" not in after_asr
    assert graph.downstream("mux") == ["mux"]
    after_demux = graph.downstream("demux")
    assert after_demux[0] == "demux" and {"silero-vad", "asr", "subtitles", "mux"} <= set(after_demux)


def test_unknown_stage_lists_the_real_ones():
    with pytest.raises(JobError, match="demux"):
        graph.stage("transcribe")


def test_skip_accepts_only_skippable_stages():
    assert graph.parse_skip("") == frozenset()
    with pytest.raises(JobError, match="cannot be skipped"):
        graph.parse_skip("asr")
    with pytest.raises(JobError, match="unknown stage"):
        graph.parse_skip("lyrics")


def test_skipping_a_stage_that_another_requires_is_refused(monkeypatch):
    import dataclasses

    stages = tuple(dataclasses.replace(s, skippable=True) if s.name == "silero-vad" else s for s in graph.STAGES)
    monkeypatch.setattr(graph, "STAGES", stages)
    with pytest.raises(JobError, match="asr needs silero-vad"):
        graph.parse_skip("silero-vad")
