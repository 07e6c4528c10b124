"""Which diarization pipeline runs, its options, and the embedded parts."""

from __future__ import annotations

import math

import pytest

from shared.errors import InputError, ModelNotFound
from shared.options.diarization import DiarizationOptions
from stages.diarization import pipeline as pipelines
from stages.diarization.stage import model_identity


def fake_snapshot(cache, repo_id: str, files=("config.yaml",)):
    folder = cache / "huggingface" / "hub" / ("models--" + repo_id.replace("/", "--"))
    snapshot = folder / "snapshots" / "abc123"
    snapshot.mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("abc123")
    for name in files:
        (snapshot / name).write_text("pipeline: {}\n")
    return snapshot


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MODEL_CACHE", str(tmp_path))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return tmp_path


def test_auto_is_the_embedded_pipeline_when_the_cache_has_none(cache):
    choice = pipelines.choose(DiarizationOptions())
    assert choice.kind == "embedded"
    identity = choice.identity()
    assert identity["segmentation"]["source"] == "embedded" and identity["embedding"]["name"] == "campplus"
    assert model_identity(DiarizationOptions()) == identity


def test_auto_prefers_a_cached_large_pipeline(cache):
    fake_snapshot(cache, "pyannote/speaker-diarization-3.1")
    choice = pipelines.choose(DiarizationOptions())
    assert choice.kind == "cache" and choice.pipeline.name == "pyannote/speaker-diarization-3.1"
    fake_snapshot(cache, "pyannote/speaker-diarization-community-1")
    assert pipelines.choose(DiarizationOptions()).pipeline.name == "pyannote/speaker-diarization-community-1"
    assert pipelines.choose(DiarizationOptions(model="embedded")).kind == "embedded"


def test_a_named_pipeline_missing_from_the_cache_says_how_to_get_it(cache):
    with pytest.raises(ModelNotFound, match="make models DIARIZATION_MODEL=pyannote/speaker-diarization-3.1"):
        pipelines.choose(DiarizationOptions(model="pyannote/speaker-diarization-3.1"))
    with pytest.raises(ModelNotFound, match="unknown diarization model"):
        pipelines.choose(DiarizationOptions(model="nonsense"))


def test_a_local_pipeline_folder_needs_its_config(cache, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    with pytest.raises(ModelNotFound, match="config.yaml"):
        pipelines.choose(DiarizationOptions(model=str(folder)))
    (folder / "config.yaml").write_text("x: 1\n")
    assert pipelines.choose(DiarizationOptions(model=str(folder))).pipeline.source == "local"


def test_speaker_bounds():
    assert pipelines.speaker_bounds(DiarizationOptions()) == {}
    assert pipelines.speaker_bounds(DiarizationOptions(num_speakers=3, min_speakers=1)) == {"num_speakers": 3}
    assert pipelines.speaker_bounds(DiarizationOptions(min_speakers=2, max_speakers=4)) == {"min_speakers": 2, "max_speakers": 4}
    with pytest.raises(InputError, match="above max_speakers"):
        pipelines.speaker_bounds(DiarizationOptions(min_speakers=5, max_speakers=4))
    with pytest.raises(InputError, match="negative"):
        pipelines.speaker_bounds(DiarizationOptions(num_speakers=-1))


@pytest.mark.parametrize("field,value", [("segmentation_step", 0.0), ("segmentation_step", 1.5),
                                         ("embedding_batch_size", 0), ("clustering_threshold", 2.0)])
def test_bad_options_are_refused(field, value):
    with pytest.raises(InputError):
        pipelines.check_options(DiarizationOptions(**{field: value}))


def test_no_plda_loads_nothing_and_refuses_to_be_used():
    from pyannote.audio.core.plda import PLDA

    plda = pipelines._no_plda_class()()
    assert isinstance(plda, PLDA)
    with pytest.raises(RuntimeError, match="AgglomerativeClustering"):
        plda(None)


def test_campplus_embedding_is_a_pyannote_model_with_masks():
    import torch
    from pyannote.audio import Model

    from stages.diarization.embedding import EMBEDDING_DIMENSION, CamPlusPlusEmbedding
    from stages.diarization.models import resolve_speaker_embedding

    model = CamPlusPlusEmbedding(resolve_speaker_embedding("campplus").path).eval()
    assert isinstance(model, Model) and model.dimension == EMBEDDING_DIMENSION
    torch.manual_seed(0)
    waveforms = torch.randn(3, 1, 32000) * 0.1
    masks = torch.zeros(3, 100)
    masks[0] = 1.0
    masks[1, :50] = 1.0  # half the chunk
    with torch.inference_mode():
        out = model(waveforms, masks)
        whole = model(waveforms[:1])
    assert out.shape == (3, EMBEDDING_DIMENSION)
    assert torch.allclose(out[0], whole[0], atol=1e-5)  # an all-ones mask is the whole chunk
    assert not torch.isnan(out[1]).any() and not torch.allclose(out[0], out[1])
    assert torch.isnan(out[2]).all()  # no active frame: NaN, which pyannote's clustering leaves out
    assert math.isfinite(float(out[0].norm()))


def test_campplus_embedding_can_cap_the_frames_it_reads():
    import torch

    from stages.diarization.embedding import CamPlusPlusEmbedding
    from stages.diarization.models import resolve_speaker_embedding

    path = resolve_speaker_embedding("campplus").path
    full, capped = CamPlusPlusEmbedding(path).eval(), CamPlusPlusEmbedding(path, max_frames=50).eval()
    torch.manual_seed(1)
    waveforms = torch.randn(1, 1, 32000) * 0.1
    with torch.inference_mode():
        a, b = full(waveforms), capped(waveforms)
    assert torch.isfinite(b).all() and not torch.allclose(a, b)
    with pytest.raises(InputError, match="embedding_max_s"):
        pipelines.check_options(DiarizationOptions(embedding_max_s=-1))


def test_pyannote_vad_scores_are_reused_only_by_the_embedded_pipeline_they_match(cache):
    import numpy as np

    from shared.segmentation import SegmentationScores

    options = DiarizationOptions()
    embedded = pipelines.choose(options)
    made = SegmentationScores(np.zeros((9, 589, 3), dtype=np.float32), 0.0, 10.0, 2.5, options.segmentation_step,
                              embedded.segmentation.identity(), 480000, 16000)
    assert pipelines.reuse_reason(embedded, options, made, 480000) == ""
    assert "pyannote-vad did not run" in pipelines.reuse_reason(embedded, options, None, 480000)
    assert "diarization uses 0.1" in pipelines.reuse_reason(embedded, DiarizationOptions(segmentation_step=0.1), made, 480000)
    empty = SegmentationScores(np.zeros((0, 0, 0), dtype=np.float32), 0.0, 0.0, 0.0, 0.25, made.model, 480000, 16000)
    assert "no segmentation scores" in pipelines.reuse_reason(embedded, options, empty, 480000)
    fake_snapshot(cache, "pyannote/speaker-diarization-community-1")
    cached = pipelines.choose(options)
    assert cached.kind == "cache"
    assert "segments with its own model" in pipelines.reuse_reason(cached, options, made, 480000)
