"""Silero VAD probabilities (real ONNX model, small inputs) and the stage's run()."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from shared import schema
from shared.errors import StageFailed
from shared.models import resolve_silero
from shared.options import to_dict
from shared.options.silero_vad import SileroVadOptions
from stages.silero_vad import probabilities as P
from stages.silero_vad.stage import model_identity, run


@pytest.fixture(scope="module")
def session():
    return P.load_session(resolve_silero("silero-vad").path)


def write_wav(path: Path, audio: np.ndarray, rate: int = 16000) -> Path:
    soundfile.write(str(path), audio, rate, subtype="PCM_16")
    return path


def reference_probabilities(session, audio: np.ndarray) -> np.ndarray:
    """All frames in one call, windows built sample by sample (no stride tricks)."""
    n = -(-len(audio) // 512)
    padded = np.zeros(n * 512, dtype=np.float32)
    padded[:len(audio)] = audio
    rows = np.zeros((n, 576), dtype=np.float32)
    for i in range(n):
        rows[i, 64:] = padded[i * 512:(i + 1) * 512]
        if i:
            rows[i, :64] = padded[i * 512 - 64:i * 512]
    state = np.zeros((1, 1, 128), dtype=np.float32)
    probs, _, _ = session.run(None, {"input": rows, "h": state, "c": state.copy()})
    return probs


def test_frame_windows_carry_64_samples_of_context_and_zero_pad_the_last_frame():
    context = np.arange(64, dtype=np.float32) - 100
    samples = np.arange(1000, dtype=np.float32) + 1
    rows = P.frame_windows(context, samples, 2)
    assert rows.shape == (2, 576) and rows.dtype == np.float32
    np.testing.assert_array_equal(rows[0, :64], context)
    np.testing.assert_array_equal(rows[0, 64:], samples[:512])
    np.testing.assert_array_equal(rows[1, :64], samples[448:512])
    np.testing.assert_array_equal(rows[1, 64:64 + 488], samples[512:])
    assert not rows[1, 64 + 488:].any()


def test_probabilities_do_not_depend_on_the_block_size(session, eval_data, tmp_path):
    audio, rate = soundfile.read(str(eval_data / "sample.wav"), dtype="float32")
    audio = audio[: 12 * rate + 300]  # a partial last frame
    wav = write_wav(tmp_path / "a.wav", audio)
    audio = soundfile.read(str(wav), dtype="float32")[0]  # as PCM_16 stores it
    expected = reference_probabilities(session, audio)
    assert expected.max() > 0.9 and expected.min() < 0.1  # speech and silence both present
    for block in (1, 7, 100, 512, 10_000):
        probs, info = P.speech_probabilities(wav, session, block_frames=block)
        assert info.frames == len(expected) == -(-len(audio) // 512)
        np.testing.assert_allclose(probs, expected, atol=1e-5)


def test_audio_is_streamed_in_blocks(session, tmp_path, monkeypatch):
    wav = write_wav(tmp_path / "noise.wav", np.random.default_rng(0).normal(0, 0.05, 16000 * 20).astype(np.float32))
    sizes = []
    real_read = soundfile.SoundFile.read

    def spy(self, frames=-1, *args, **kwargs):
        sizes.append(frames)
        return real_read(self, frames, *args, **kwargs)

    monkeypatch.setattr(soundfile.SoundFile, "read", spy)
    calls = []
    probs, _ = P.speech_probabilities(wav, session, block_frames=64, hook=lambda step, done, total=None: calls.append((done, total)))
    assert len(probs) == 625
    assert sizes and all(0 < s <= 64 * 512 for s in sizes)
    assert calls[0] == (0, 625) and calls[-1] == (625, 625)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.parametrize("rate,channels", [(44100, 1), (8000, 1), (16000, 2)])
def test_not_16k_mono_asks_to_rerun_demux(tmp_path, rate, channels):
    audio = np.zeros((rate, channels), dtype=np.float32)
    wav = write_wav(tmp_path / "bad.wav", audio, rate)
    with pytest.raises(StageFailed, match="rerun demux"):
        P.audio_info(wav)
    out = tmp_path / "out" / "speech.json"
    with pytest.raises(StageFailed, match="16 kHz mono"):
        run({"audio": wav}, {"speech_regions": out}, SileroVadOptions())
    assert not out.exists()


def test_unreadable_audio_fails_cleanly(tmp_path):
    bad = tmp_path / "audio.wav"
    bad.write_bytes(b"RIFF not really a wav")
    with pytest.raises(StageFailed, match="rerun demux"):
        run({"audio": bad}, {"speech_regions": tmp_path / "speech.json"}, SileroVadOptions())


def test_silence_gives_no_regions_and_says_so(tmp_path):
    wav = write_wav(tmp_path / "silence.wav", np.zeros(16000 * 10, dtype=np.float32))
    out = tmp_path / "speech.json"
    progress = []
    report = run({"audio": wav}, {"speech_regions": out}, SileroVadOptions(),
                 lambda step, done, total=None: progress.append((done, total)))
    record = schema.load(out, schema.SpeechRegions)
    assert record.regions == ()
    assert record.audio_duration_s == pytest.approx(10.0)
    assert any("no speech found" in note for note in report.notes)
    assert progress[-1] == (313, 313)
    assert report.metrics["frames"] == 313 and report.metrics["regions"] == 0


def test_speech_json_records_how_it_was_made(tmp_path, eval_data):
    out = tmp_path / "speech.json"
    options = SileroVadOptions(threshold=0.6)
    report = run({"audio": eval_data / "sample.wav"}, {"speech_regions": out}, options)
    record = schema.load(out, schema.SpeechRegions)
    assert record.producer.to_json() == {"stage": "silero-vad", "model": model_identity(options),
                                         "options": to_dict(options), "frames": 938}
    assert record.producer.options["threshold"] == 0.6
    assert report.model == model_identity(options)
    assert len(record.regions) >= 1 and report.notes == []


def test_model_identity_is_the_resolved_model():
    identity = model_identity(SileroVadOptions())
    assert identity == resolve_silero("silero-vad").identity()
    assert identity["path"].endswith("silero_vad_16k_sequence.onnx")
