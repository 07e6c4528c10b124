"""The report's energy envelope (host/report/envelope.py): standard library only, small, and loud
where the audio is loud."""

from __future__ import annotations

import wave

import pytest

from host.report.envelope import SCALE, EnvelopeError, envelope
from tests.report_job import write_tone_wav


def test_the_loud_part_is_loud_and_the_rest_quiet(tmp_path):
    path = tmp_path / "audio.wav"
    write_tone_wav(path, duration_s=10.0, loud=(2.0, 5.0))
    env = envelope(path, points=100)
    assert len(env.peak) == len(env.rms) == 100 and env.bucket_s == pytest.approx(0.1)
    assert env.duration_s == pytest.approx(10.0)
    loud = [k for k, v in enumerate(env.rms) if v > 100]
    assert loud == list(range(20, 50))  # 2.0-5.0 s, bucket by bucket
    assert all(abs(env.peak[k] - 500) <= 5 for k in loud)  # a sine at half scale peaks at 0.5
    assert all(abs(env.rms[k] - round(500 / 2 ** 0.5)) <= 10 for k in loud)  # and its RMS is peak / sqrt(2)
    assert max(env.rms[:20] + env.rms[50:]) <= 10


def test_buckets_are_at_least_min_bucket_s_and_at_most_points(tmp_path):
    path = tmp_path / "audio.wav"
    write_tone_wav(path, duration_s=3.0)
    assert len(envelope(path, points=4000).peak) == 300  # 10 ms buckets, not 4000 of 0.75 ms
    assert len(envelope(path, points=30).peak) == 30
    assert envelope(path).to_json()["peak"] == list(envelope(path).peak)


def test_a_long_file_is_estimated_from_spread_samples_within_a_few_percent(tmp_path, monkeypatch):
    import host.report.envelope as module

    path = tmp_path / "audio.wav"
    write_tone_wav(path, duration_s=4.0, loud=(0.0, 4.0))
    exact = envelope(path, points=4)  # 16000 samples a bucket
    monkeypatch.setattr(module, "BUCKET_SAMPLES", 64)
    estimated = envelope(path, points=4)
    assert all(abs(a - b) <= 0.05 * SCALE for a, b in zip(exact.rms + exact.peak, estimated.rms + estimated.peak))


def test_not_16_bit_pcm_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "audio.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(16000)
        out.writeframes(b"\x80" * 1600)
    with pytest.raises(EnvelopeError, match="8-bit samples, not 16-bit PCM: rerun demux"):
        envelope(path)
    (tmp_path / "junk.wav").write_bytes(b"not a wav at all")
    with pytest.raises(EnvelopeError, match="not a PCM WAV file"):
        envelope(tmp_path / "junk.wav")


def test_an_empty_file_has_an_empty_envelope(tmp_path):
    path = tmp_path / "audio.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
    env = envelope(path)
    assert env.peak == () and env.duration_s == 0.0
