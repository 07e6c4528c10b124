"""The one audio reader: the graph's format checked, samples by position and time, one-line failures."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from shared import audio, graph, schema
from shared.errors import PipelineError, StageFailed
from shared.options.lyrics_detection import LyricsDetectionOptions
from stages.lyrics_detection import features
from stages.lyrics_detection.stage import run as lyrics_run

RATE = audio.SAMPLE_RATE_HZ


def write(path, samples, rate=RATE):
    soundfile.write(str(path), samples, rate, subtype="PCM_16")
    return path


@pytest.fixture
def ramp(tmp_path):
    """Two seconds whose sample i holds i / 2**15 (exact in 16-bit PCM)."""
    return write(tmp_path / "audio.wav", (np.arange(2 * RATE) % 2**15 / 2**15).astype(np.float32))


def test_the_format_is_the_audio_artifacts():
    assert graph.ARTIFACTS["audio"].format == audio.AUDIO_FORMAT == graph.AudioFormat(16000, 1, "PCM_16")
    assert RATE == 16000 and audio.AUDIO_FORMAT.describe() == "16 kHz mono"


def test_whole_file_segment_and_duration(ramp):
    samples = audio.read_all(ramp)
    assert samples.dtype == np.float32 and samples.shape == (2 * RATE,)
    assert audio.duration_s(ramp) == 2.0
    segment = audio.read_segment(ramp, 0.5, 0.75)
    np.testing.assert_array_equal(segment, samples[RATE // 2:RATE * 3 // 4])
    with audio.AudioFile(ramp) as wav:
        assert (wav.frames, wav.sample_rate_hz, wav.duration_s) == (2 * RATE, RATE, 2.0)
        assert wav.sample(1.00003) == RATE  # the nearest sample
        np.testing.assert_array_equal(wav.read(100, 110), samples[100:110])


def test_reads_are_clipped_to_the_file(ramp):
    with audio.AudioFile(ramp) as wav:
        assert len(wav.read(-50, 10)) == 10
        assert len(wav.read_s(1.5, 9.0)) == RATE // 2
        empty = wav.read_s(3.0, 4.0)
        assert empty.dtype == np.float32 and empty.shape == (0,)
        assert wav.read(20, 10).shape == (0,)


def test_padded_reads_are_zeros_outside_the_file(ramp):
    """Windows that start before the file or run past its end (the pyannote stages' windows)."""
    samples = audio.read_all(ramp)
    with audio.AudioFile(ramp) as wav:
        np.testing.assert_array_equal(wav.read_padded(100, 110), samples[100:110])
        before = wav.read_padded(-5, 10)
        assert before.dtype == np.float32 and len(before) == 15
        np.testing.assert_array_equal(before, np.concatenate([np.zeros(5, np.float32), samples[:10]]))
        after = wav.read_padded(2 * RATE - 4, 2 * RATE + 6)
        np.testing.assert_array_equal(after, np.concatenate([samples[-4:], np.zeros(6, np.float32)]))
        both = wav.read_padded(-3, 2 * RATE + 3)
        assert len(both) == 2 * RATE + 6 and not both[:3].any() and not both[-3:].any()
        assert len(wav.read_padded(3 * RATE, 3 * RATE + 7)) == 7  # wholly past the end: all zeros


def test_read_into_a_buffer(ramp):
    out = np.full(30, -1.0, dtype=np.float32)
    with audio.AudioFile(ramp) as wav:
        got = wav.read(0, 20, out=out[5:25])
    assert len(got) == 20 and out[4] == -1.0 and out[25] == -1.0
    np.testing.assert_array_equal(out[5:25], audio.read_all(ramp)[:20])


@pytest.mark.parametrize("rate,channels", [(44100, 1), (8000, 1), (16000, 2)])
def test_another_format_asks_to_rerun_demux(tmp_path, rate, channels):
    wav = write(tmp_path / "bad.wav", np.zeros((rate, channels), dtype=np.float32), rate)
    with pytest.raises(StageFailed) as err:
        audio.read_all(wav)
    message = str(err.value)
    assert "is not 16 kHz mono" in message and f"got {rate} Hz, {channels} channels" in message
    assert message.endswith("(rerun demux)") and "\n" not in message


def test_an_unreadable_file_asks_to_rerun_demux(tmp_path):
    bad = tmp_path / "audio.wav"
    bad.write_bytes(b"RIFF not really a wav")
    for read in (audio.read_all, audio.duration_s):
        with pytest.raises(StageFailed, match=r"cannot read audio .*\(rerun demux\)$"):
            read(bad)
    with pytest.raises(StageFailed, match="cannot read audio"):
        audio.duration_s(tmp_path / "missing.wav")


@pytest.mark.parametrize("rate,channels", [(44100, 1), (16000, 2)])
def test_lyrics_detection_refuses_other_audio_as_a_pipeline_error(tmp_path, rate, channels):
    """It raised a bare ValueError here, which a user saw as an internal error."""
    wav = write(tmp_path / "audio.wav", np.zeros((rate * 3, channels), dtype=np.float32), rate)
    with pytest.raises(StageFailed, match="rerun demux"):
        features.frame_features(wav)
    schema.write(tmp_path / "transcript.json", schema.Transcript("en", 1.0, 3.0, ()))
    outputs = {"lyrics": tmp_path / "out" / "lyrics.json"}
    with pytest.raises(PipelineError, match="is not 16 kHz mono"):
        lyrics_run({"audio": wav, "transcript": tmp_path / "transcript.json"}, outputs, LyricsDetectionOptions())
    assert not outputs["lyrics"].exists()
