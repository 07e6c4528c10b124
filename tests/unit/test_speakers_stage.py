"""The speakers stage: word times (whisperx alignment, for real, with a tiny wav2vec2 model
built here; else the ASR's), speakers from the diarization, names from metadata.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from shared import schema
from shared.errors import ModelNotFound
from shared.options.speakers import SpeakersOptions
from shared.schema import Segment, Transcript, Word
from shared.speakers import GAP, INSIDE, NO_SPEAKER, OVERLAP, Diarization, SpeakerTranscript, Turn
from stages.speakers.stage import model_identity, run

SR = 16000


def words(text: str, start_s: float, step_s: float = 0.4) -> Segment:
    ws = tuple(Word(round(start_s + k * step_s, 3), round(start_s + k * step_s + 0.3, 3), " " + w, 0.9)
               for k, w in enumerate(text.split()))
    return Segment(ws[0].start_s, ws[-1].end_s, " " + text, ws)


TRANSCRIPT = Transcript("en", 0.99, 8.0, (words("hello there diane", 0.5), words("hi sheila how are you", 3.0)))
DIARIZATION = Diarization(("SPEAKER_00", "SPEAKER_01"), (Turn(0.4, 1.6, "SPEAKER_00"), Turn(2.9, 4.5, "SPEAKER_01")),
                          (Turn(0.4, 1.6, "SPEAKER_00"), Turn(2.9, 4.5, "SPEAKER_01")), ((3.3, 3.6),), 8.0, {})


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "cache" / "torch"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return tmp_path / "cache"


def job_files(folder: Path, diarization=True, metadata=None) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    soundfile.write(folder / "audio.wav", (rng.standard_normal(8 * SR) * 0.05).astype(np.float32), SR, subtype="PCM_16")
    schema.write(folder / "transcript.json", TRANSCRIPT)
    inputs = {"audio": folder / "audio.wav", "transcript": folder / "transcript.json"}
    if diarization:
        schema.write(folder / "speakers.json", DIARIZATION)
        inputs["diarization"] = folder / "speakers.json"
    if metadata is not None:
        (folder / "metadata.json").write_text(json.dumps(metadata))
        inputs["metadata"] = folder / "metadata.json"
    return inputs


def run_stage(tmp_path, options, **kwargs):
    inputs = job_files(tmp_path / "in", **kwargs)
    out = tmp_path / "out"
    out.mkdir()
    report = run(inputs, {"speaker_words": out / "words.json"}, options)
    return schema.load(out / "words.json", SpeakerTranscript), report


def test_without_an_alignment_model_the_asr_times_are_kept_and_said(tmp_path, cache):
    record, report = run_stage(tmp_path, SpeakersOptions(), metadata={"speakers": {"SPEAKER_01": "Sheila"}})
    assert record.timing["method"] == "asr" and "WAV2VEC2_ASR_BASE_960H" in record.timing["reason"]
    assert report.model == {"alignment": "asr"}
    assert any("ASR's" in n for n in report.notes)
    assert [(w.start_s, w.end_s) for w in record.words] == [(w.start_s, w.end_s) for w in TRANSCRIPT.words]
    assert [w.speaker for w in record.words] == ["SPEAKER_00"] * 3 + ["SPEAKER_01"] * 5
    assert record.names == {"SPEAKER_00": "Speaker 1", "SPEAKER_01": "Sheila"}
    how = [w.assignment for w in record.words]
    assert how[:3] == [INSIDE, INSIDE, INSIDE]
    assert how[4] == OVERLAP  # "sheila" at 3.4-3.7 lies in overlapped speech
    assert how[-1] == GAP  # "you" at 4.6-4.9, after the last turn (to 4.5): the nearest speaker
    assert report.metrics["assignments"][GAP] == how.count(GAP)
    assert record.turns == DIARIZATION.exclusive


def test_align_model_none_is_not_a_note(tmp_path, cache):
    record, report = run_stage(tmp_path, SpeakersOptions(align_model="none"))
    assert record.timing == {"method": "asr", "reason": "ALIGN_MODEL=none"}
    assert not any("ASR's" in n for n in report.notes)


def test_without_diarization_words_have_no_speaker(tmp_path, cache):
    record, report = run_stage(tmp_path, SpeakersOptions(align_model="none"), diarization=False)
    assert {w.speaker for w in record.words} == {""} and {w.assignment for w in record.words} == {NO_SPEAKER}
    assert any("diarization is switched off" in n for n in report.notes)


def test_metadata_naming_an_unknown_label_is_noted(tmp_path, cache):
    _, report = run_stage(tmp_path, SpeakersOptions(align_model="none"), metadata={"speakers": {"SPEAKER_07": "Bob"}})
    assert any("SPEAKER_07" in n for n in report.notes)


def test_an_explicit_missing_alignment_model_fails(tmp_path, cache):
    with pytest.raises(ModelNotFound, match="make models"):
        run_stage(tmp_path, SpeakersOptions(align_model="jonatasgrosman/wav2vec2-large-xlsr-53-french"))


def tiny_wav2vec2(folder: Path) -> Path:
    """A randomly initialised Wav2Vec2ForCTC with a character vocabulary, saved as a HF folder."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC, Wav2Vec2Processor

    folder.mkdir(parents=True)
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, "'": 5}
    vocab.update({chr(c): 6 + k for k, c in enumerate(range(ord("a"), ord("z") + 1))})
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(folder / "vocab.json"), unk_token="<unk>", pad_token="<pad>",
                                     word_delimiter_token="|")
    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=SR, padding_value=0.0, do_normalize=True,
                                         return_attention_mask=False)
    Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)
    torch.manual_seed(0)
    config = Wav2Vec2Config(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, conv_dim=(16,) * 7, num_conv_pos_embeddings=16,
                            num_conv_pos_embedding_groups=2, pad_token_id=0)
    Wav2Vec2ForCTC(config).save_pretrained(folder)
    return folder


def test_whisperx_alignment_runs_with_a_model_from_a_folder(tmp_path, cache):
    model_dir = tiny_wav2vec2(tmp_path / "tiny-wav2vec2")
    options = SpeakersOptions(align_model=str(model_dir), device="cpu")
    assert model_identity(options)["align_model"]["source"] == "local"
    record, report = run_stage(tmp_path, options)
    timing = record.timing
    assert timing["method"] == "whisperx-align" and timing["model"]["path"] == str(model_dir.resolve())
    assert timing["segments_aligned"] == 2 and timing["words_aligned"] == 8
    assert timing["sentence_splitter"].startswith("untrained punkt")  # no punkt_tab in this cache
    assert report.model["alignment"] == "whisperx-align" and report.model["align_model"]["source"] == "local"
    for seg, original in zip(record.segments, TRANSCRIPT.segments):
        starts = [w.start_s for w in seg.words]
        assert starts == sorted(starts)
        for w in seg.words:
            assert original.start_s - 0.01 <= w.start_s <= w.end_s <= original.end_s + 0.01
        assert [w.text for w in seg.words] == [w.text for w in original.words]
    # times really come from the alignment, not the ASR
    assert [(w.start_s, w.end_s) for w in record.words] != [(w.start_s, w.end_s) for w in TRANSCRIPT.words]


def test_auto_finds_a_cached_torchaudio_alignment_model(tmp_path, cache):
    from stages.speakers.models import resolve_align_model

    checkpoints = cache / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    assert resolve_align_model("auto", "en") is None
    (checkpoints / "wav2vec2_fairseq_base_ls960_asr_ls960.pth").write_bytes(b"x")
    found = resolve_align_model("auto", "en")
    assert found.name == "WAV2VEC2_ASR_BASE_960H" and found.source == "cache"
    assert model_identity(SpeakersOptions())["cached"] == ["WAV2VEC2_ASR_BASE_960H"]
    assert resolve_align_model("auto", "xx") is None  # whisperx has no default for it
