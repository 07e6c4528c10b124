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
                                         ("embedding_batch_size", 0), ("clustering_threshold", 2.0),
                                         ("clustering_max_embeddings", -1)])
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


def test_evenly_spaced_keeps_the_ends_and_the_count():
    assert list(pipelines.evenly_spaced(5, 0)) == [0, 1, 2, 3, 4]
    assert list(pipelines.evenly_spaced(5, 9)) == [0, 1, 2, 3, 4]
    kept = pipelines.evenly_spaced(10_000, 3000)
    assert len(kept) == 3000 and kept[0] == 0 and kept[-1] == 9999 and (kept[1:] > kept[:-1]).all()
    assert list(kept) == list(pipelines.evenly_spaced(10_000, 3000))  # the same film keeps the same ones


def three_speakers(chunks: int, seed: int = 0):
    """(embeddings (chunks, 3, 192), binary segmentations (chunks, 100, 3)): in each chunk local
    speaker s is film speaker (chunk + s) % 3, each alone in a third of the chunk; local speaker 2
    of every fifth chunk is silent (NaN embedding)."""
    import numpy as np
    from pyannote.core import SlidingWindow, SlidingWindowFeature

    rng = np.random.default_rng(seed)
    voices = rng.standard_normal((3, 192))
    embeddings = np.empty((chunks, 3, 192), dtype=np.float32)
    masks = np.zeros((chunks, 100, 3), dtype=np.float32)
    for c in range(chunks):
        for s in range(3):
            embeddings[c, s] = voices[(c + s) % 3] + 0.3 * rng.standard_normal(192)
            masks[c, 33 * s:33 * s + 33, s] = 1.0
        if c % 5 == 0:
            embeddings[c, 2] = np.nan
            masks[c, :, 2] = 0.0
    truth = np.array([[(c + s) % 3 for s in range(3)] for c in range(chunks)])
    return embeddings, SlidingWindowFeature(masks, SlidingWindow(start=0.0, duration=10.0, step=2.5)), truth


def test_the_clustering_clusters_at_most_the_cap_and_assigns_every_embedding(monkeypatch):
    import numpy as np
    from pyannote.audio.pipelines.clustering import AgglomerativeClustering

    embeddings, segmentations, truth = three_speakers(400)  # 1120 embeddings to cluster
    clustering = pipelines._capped_clustering_class()(metric="cosine")
    clustering.instantiate({"method": "centroid", "min_cluster_size": 12, "threshold": 0.7})
    linked = []
    original = AgglomerativeClustering.cluster

    def recorded(self, train, **kwargs):
        linked.append((len(train), self.min_cluster_size))
        return original(self, train, **kwargs)

    monkeypatch.setattr(AgglomerativeClustering, "cluster", recorded)
    clustering.max_embeddings = 200
    capped, _, centroids = clustering(embeddings.copy(), segmentations)
    assert clustering.counts == {"embeddings": 1120, "embeddings_for_clustering": 1120, "embeddings_clustered": 200}
    clustering.max_embeddings = 0
    uncapped, _, _ = clustering(embeddings.copy(), segmentations)
    assert clustering.counts["embeddings_clustered"] == 1120
    assert linked == [(200, 2), (1120, 12)]  # 12 of 1120 is 2 of 200: a small cluster is the same share of speech
    assert clustering.min_cluster_size == 12 and centroids.shape == (3, 192)
    valid = ~np.isnan(embeddings).any(axis=2)
    assert (capped[valid] >= 0).all()  # every embedding, clustered or not, has a cluster
    # one cluster per film speaker, the same partition as clustering every embedding
    assert len({(int(t), int(h)) for t, h in zip(truth[valid], capped[valid])}) == 3
    assert len({(int(a), int(b)) for a, b in zip(capped[valid], uncapped[valid])}) == 3


def test_the_embedded_pipeline_clusters_with_the_cap_it_is_given():
    options = DiarizationOptions(clustering_max_embeddings=123)
    pipeline = pipelines.load(pipelines.choose(options), options, "cpu")
    assert pipeline.clustering.max_embeddings == 123
    assert pipeline.clustering.method == "centroid" and pipeline.clustering.min_cluster_size == pipelines.MIN_CLUSTER_SIZE


def test_the_embedded_pipeline_crops_windows_from_the_file_as_from_a_waveform(eval_data):
    import torch
    from pyannote.audio.core.io import Audio
    from pyannote.core import Segment

    from shared.audio import AudioFile, read_all

    crop = pipelines._wav_crop_audio_class()(sample_rate=16000, mono="downmix")
    waveform = {"waveform": torch.from_numpy(read_all(eval_data / "sample.wav")).unsqueeze(0), "sample_rate": 16000}
    memory = Audio(sample_rate=16000, mono="downmix")
    with AudioFile(eval_data / "sample.wav") as wav:
        file = {"audio": str(wav.path), pipelines.WAV_KEY: wav}
        for segment in (Segment(2.5, 12.5), Segment(-1.0, 9.0), Segment(25.0, 35.0), Segment(0.0, wav.duration_s)):
            got, rate = crop.crop(file, segment, mode="pad")
            want, _ = memory.crop(waveform, segment, mode="pad")
            assert rate == 16000 and got.shape == want.shape and torch.equal(got, want), segment
        with pytest.raises(ValueError):
            crop.crop(file, Segment(25.0, 35.0))  # mode="raise", as pyannote


def test_the_embedded_pipeline_reconstructs_in_float32_what_pyannote_reconstructs():
    import numpy as np
    from pyannote.audio.pipelines import SpeakerDiarization
    from pyannote.core import SlidingWindow, SlidingWindowFeature

    options = DiarizationOptions()
    pipeline = pipelines.load(pipelines.choose(options), options, "cpu")
    rng = np.random.default_rng(3)
    scores = (rng.random((40, 589, 3)) > 0.6).astype(np.float32)
    segmentations = SlidingWindowFeature(scores, SlidingWindow(start=0.0, duration=10.0, step=2.5))
    frames = pipeline._segmentation.model.receptive_field
    hard = rng.integers(0, 5, size=(40, 3))
    hard[scores.sum(axis=1) == 0] = -2
    hard[::7, 1] = -2
    ours = pipeline.reconstruct(segmentations, hard, pipeline.speaker_count(segmentations, frames, warm_up=(0.0, 0.0)))
    theirs = SpeakerDiarization.reconstruct(pipeline, segmentations, hard,
                                            pipeline.speaker_count(segmentations, frames, warm_up=(0.0, 0.0)))
    assert ours.data.shape == theirs.data.shape and np.array_equal(ours.data, theirs.data)
    assert [(w.start, w.duration, w.step) for w in (ours.sliding_window, theirs.sliding_window)] == \
        [(theirs.sliding_window.start, theirs.sliding_window.duration, theirs.sliding_window.step)] * 2


def test_campplus_runs_without_onednn_and_hands_freed_memory_back(monkeypatch):
    """oneDNN caches kernels for every input length CAM++ meets, and glibc keeps the freed
    arrays of ever-changing sizes: both grew the stage with the film (docs/SPEAKERS.md)."""
    import torch

    from stages.diarization import embedding
    from stages.diarization.models import resolve_speaker_embedding

    model = embedding.CamPlusPlusEmbedding(resolve_speaker_embedding("campplus").path).eval()
    onednn, trims = [], []
    original = model.network.forward

    def recorded(*args, **kwargs):
        onednn.append(torch.backends.mkldnn.enabled)
        return original(*args, **kwargs)

    monkeypatch.setattr(model.network, "forward", recorded)
    monkeypatch.setattr(embedding, "return_freed_memory", lambda: trims.append(1))
    torch.manual_seed(0)
    with torch.inference_mode():
        out = model(torch.randn(2, 1, 32000) * 0.1, torch.ones(2, 100))
    assert out.shape == (2, embedding.EMBEDDING_DIMENSION) and torch.isfinite(out).all()
    assert onednn == [False, False] and torch.backends.mkldnn.enabled  # switched off for CAM++ only
    assert trims == [1]  # once per batch
