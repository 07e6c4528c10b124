"""The diarization stage with pyannote-vad's segmentation scores: the segmentation model runs
once per job (in pyannote-vad), diarization finds the same speakers, and scores made by another
model or at another step are not used."""

from __future__ import annotations

import pytest

from bench import eval_speakers as ev
from shared import graph, schema
from shared import options as opts
from shared.speakers import Diarization, parse_rttm
from stages.diarization import stage

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def chain(eval_data, tmp_path_factory):
    return ev.run_chain(eval_data / "sample.wav", tmp_path_factory.mktemp("segmentation-once"),
                        ("silero-vad", "pyannote-vad"))


@pytest.fixture
def model_calls(monkeypatch):
    """How many times a pyannote Inference (the segmentation model sliding over audio) is run."""
    from pyannote.audio.core.inference import Inference

    calls = []
    original = Inference.__call__

    def counted(self, *args, **kwargs):
        calls.append(self.model.__class__.__name__)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Inference, "__call__", counted)
    return calls


@pytest.fixture
def torch_threads():
    """torch's intra-op threads, set to 2 for the test (as on a 2-core machine) and restored after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield torch
    torch.set_num_threads(before)


def diarize(chain, folder, scores: bool, **options):
    folder.mkdir()
    inputs = {"audio": chain["audio"], "speech_regions": chain["speech_regions"], "refined_speech": chain["refined_speech"]}
    if scores:
        inputs["segmentation_scores"] = chain["segmentation_scores"]
    outputs = {a: folder / graph.ARTIFACTS[a].filename for a in graph.stage("diarization").outputs}
    report = stage.run(inputs, outputs, opts.resolve(graph.stage("diarization").options, {"model": "embedded", **options}, {}))
    return schema.load(outputs["diarization"], Diarization), report


def der(eval_data, found: Diarization) -> float:
    return ev.diarization_error_rate(parse_rttm((eval_data / "sample.rttm").read_text())["sample"], found.turns)["der"]


def test_with_the_scores_the_segmentation_model_does_not_run_and_the_turns_are_the_same(chain, tmp_path, eval_data, model_calls):
    reused, report = diarize(chain, tmp_path / "reused", scores=True)
    assert model_calls == []
    assert report.metrics["segmentation_from"] == "pyannote-vad" and "segmentation_not_reused" not in report.metrics
    assert reused.producer.details["segmentation_from"] == "pyannote-vad"

    own, report = diarize(chain, tmp_path / "own", scores=False)
    assert len(model_calls) == 1
    assert report.metrics["segmentation_from"] == "diarization"
    assert "pyannote-vad did not run" in report.metrics["segmentation_not_reused"]
    assert reused.speakers == own.speakers and len(reused.turns) == len(own.turns)
    assert all(abs(a.start_s - b.start_s) < 0.02 and abs(a.end_s - b.end_s) < 0.02 and a.speaker == b.speaker
               for a, b in zip(reused.turns, own.turns))
    assert abs(der(eval_data, reused) - der(eval_data, own)) < 0.002
    assert der(eval_data, reused) <= 0.10


def test_scores_made_at_another_step_are_not_used(chain, tmp_path, model_calls):
    found, report = diarize(chain, tmp_path / "other-step", scores=True, segmentation_step=0.5)
    assert len(model_calls) == 1
    assert report.metrics["segmentation_from"] == "diarization"
    assert "step 0.25 of the window, diarization uses 0.5" in report.metrics["segmentation_not_reused"]
    assert found.producer.details["segmentation_not_reused"] == report.metrics["segmentation_not_reused"]
    assert len(found.speakers) == 2


def test_scores_made_by_another_model_are_not_used(eval_data, tmp_path, model_calls):
    paths = ev.run_chain(eval_data / "sample.wav", tmp_path / "whisperx", ("silero-vad", "pyannote-vad"),
                         {"pyannote-vad": {"model": "whisperx"}})
    model_calls.clear()
    found, report = diarize(paths, tmp_path / "other-model", scores=True)
    assert len(model_calls) == 1
    assert "made by whisperx" in report.metrics["segmentation_not_reused"]
    assert len(found.speakers) == 2


def test_the_embeddings_run_on_one_torch_thread_unless_asked(chain, tmp_path, monkeypatch, torch_threads):
    """Two OpenMP threads per op on a busy 2-core machine cost 10-30x the CPU of one (docs/SPEAKERS.md, "Threads")."""
    from stages.diarization.embedding import CamPlusPlusEmbedding

    seen = []
    original = CamPlusPlusEmbedding.forward

    def recorded(self, *args, **kwargs):
        seen.append(torch_threads.get_num_threads())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CamPlusPlusEmbedding, "forward", recorded)
    _, report = diarize(chain, tmp_path / "default", scores=True)
    assert seen and set(seen) == {1} and report.metrics["cpu_threads"] == 1
