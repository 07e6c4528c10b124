"""Downmix filter, progress parsing, ffmpeg failures, and the decoded levels."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from shared.ffmpeg import run_ffmpeg
from shared.graph import AUDIO_FORMAT
from stages.demux import decode
from tests.conftest import make_media


def read_wav(path: Path) -> tuple[np.ndarray, int, int]:
    with wave.open(str(path), "rb") as wav:
        frames = wav.readframes(wav.getnframes())
        return np.frombuffer(frames, dtype="<i2").astype(np.float64) / 32768, wav.getframerate(), wav.getnchannels()


def test_stereo_and_layouts_without_centre_use_ffmpeg_downmix():
    assert decode.downmix_filter("stereo", 2) is None
    assert decode.downmix_filter("mono", 1) is None
    assert decode.downmix_filter("quad", 4) is None
    assert decode.downmix_filter("", 6) is None  # unknown layout
    assert decode.downmix_filter("5.1", 8) is None  # layout and channel count disagree


@pytest.mark.parametrize("layout", ["5.1", "5.1(side)", "FL+FR+FC+LFE+SL+SR"])
def test_five_one_weights_the_centre(layout):
    pan = decode.downmix_filter(layout, 6)
    assert pan == "pan=mono|c0=0.707*c2+0.3535*c0+0.3535*c1+0.25*c4+0.25*c5"  # LFE (c3) dropped


def test_seven_one_shares_the_surround_gain():
    pan = decode.downmix_filter("7.1", 8)
    assert pan == "pan=mono|c0=0.707*c2+0.3535*c0+0.3535*c1+0.125*c4+0.125*c5+0.125*c6+0.125*c7"


def test_progress_reaches_the_duration_once(tmp_path):
    media = make_media(tmp_path / "tone.flac", "-f", "lavfi", "-i", "sine=f=440:d=3")
    calls = []
    run_ffmpeg(decode.decode_args(media, 0, tmp_path / "out.wav", AUDIO_FORMAT, None), 3.0,
                      lambda step, done, total=None: calls.append((done, total)))
    assert calls and calls[-1] == (3.0, 3.0)
    assert [done for done, _ in calls] == sorted({done for done, _ in calls})  # increasing, no repeats
    assert sum(1 for done, total in calls if done >= total) == 1


def decoded_peak(tmp_path: Path, pan_spec: str) -> float:
    """Peak of the mono output for a 5.1 input whose channels are set by ``pan_spec``."""
    media = make_media(tmp_path / "surround.wav", "-f", "lavfi", "-i", "sine=f=1000:d=1:sample_rate=48000",
                       "-af", f"pan=5.1|{pan_spec}", "-c:a", "pcm_s16le")
    out = tmp_path / "mono.wav"
    pan = decode.downmix_filter("5.1", 6)
    run_ffmpeg(decode.decode_args(media, 0, out, AUDIO_FORMAT, pan), 1.0)
    samples, rate, channels = read_wav(out)
    assert (rate, channels) == (16000, 1)
    return float(np.abs(samples[1000:-1000]).max())


def test_centre_dialogue_stays_loud_and_lfe_is_dropped(tmp_path):
    source_peak = 0.125  # lavfi sine's amplitude
    assert decoded_peak(tmp_path, "FC=c0") == pytest.approx(0.707 * source_peak, rel=0.03)
    assert decoded_peak(tmp_path, "FL=c0") == pytest.approx(0.3535 * source_peak, rel=0.03)
    assert decoded_peak(tmp_path, "BL=c0") == pytest.approx(0.25 * source_peak, rel=0.03)
    assert decoded_peak(tmp_path, "LFE=c0") < 0.001


def test_delayed_audio_is_padded_to_the_container_start(tmp_path):
    media = make_media(tmp_path / "late.mkv", "-f", "lavfi", "-i", "color=c=black:s=32x32:r=5:d=2",
                       "-itsoffset", "0.5", "-f", "lavfi", "-i", "sine=f=440:d=1.5", "-map", "0", "-map", "1",
                       "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "flac")
    out = tmp_path / "late.wav"
    run_ffmpeg(decode.decode_args(media, 1, out, AUDIO_FORMAT, None), 2.0)
    samples, rate, _ = read_wav(out)
    assert len(samples) / rate == pytest.approx(2.0, abs=0.05)
    assert np.abs(samples[: int(0.45 * rate)]).max() < 0.001  # the half second before the audio is silence
    assert np.abs(samples[int(0.55 * rate):]).max() > 0.05
