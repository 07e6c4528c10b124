"""demux as users run it: ``python -m stages.demux --job <id>``."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from host.jobs import create_job
from shared import schema
from shared.job import Job
from shared.options.demux import DemuxOptions
from stages.demux.stage import run
from tests.conftest import make_media, run_stage


def demux(media: Path, jobs_dir: Path, *flags: str) -> tuple[Job, subprocess.CompletedProcess]:
    job = create_job(media, jobs_dir=jobs_dir)
    return job, run_stage("demux", job.id, jobs_dir, *flags)


def wav_samples(path: Path) -> tuple[np.ndarray, int, int, int]:
    with wave.open(str(path), "rb") as wav:
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64) / 32768
        return data, wav.getframerate(), wav.getnchannels(), wav.getsampwidth()


def dominant_hz(path: Path) -> float:
    samples, rate, _, _ = wav_samples(path)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("error: demux: ")
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in errors[0]
    return errors[0]


@pytest.mark.parametrize("channels, name", [(2, "stereo.flac"), (6, "surround.mka")])
def test_stereo_and_five_one_become_mono_16k_of_the_same_duration(tmp_path, jobs_dir, channels, name):
    media = make_media(tmp_path / name, "-f", "lavfi", "-i", "sine=f=440:d=3:sample_rate=48000", "-ac", str(channels))
    job, proc = demux(media, jobs_dir)
    assert proc.returncode == 0, proc.stderr
    samples, rate, nchannels, width = wav_samples(job.root / "demux" / "audio.wav")
    assert (rate, nchannels, width) == (16000, 1, 2)
    assert len(samples) / rate == pytest.approx(3.0, abs=0.03)
    assert np.abs(samples).max() > 0.05
    info = schema.load(job.root / "demux" / "media.json", schema.MediaInfo)
    assert info.source_name == name and info.duration_s == pytest.approx(3.0, abs=0.03)
    assert info.streams[0].channels == channels and info.audio_stream_index == 0
    report = json.loads((job.root / "demux" / "lock.json").read_text())["report"]
    assert report["metrics"]["channels"] == channels and report["metrics"]["duration_s"] == pytest.approx(3.0, abs=0.03)
    assert report["metrics"]["downmix"].startswith("pan=") == (channels == 6)


@pytest.fixture
def bilingual(tmp_path) -> Path:
    """English at 440 Hz (stream 0, default), German at 1000 Hz (stream 1)."""
    return make_media(tmp_path / "bilingual.mkv", "-f", "lavfi", "-i", "testsrc=s=32x32:r=5:d=2",
                      "-f", "lavfi", "-i", "sine=f=440:d=2", "-f", "lavfi", "-i", "sine=f=1000:d=2",
                      "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "flac",
                      "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=ger")


@pytest.mark.parametrize("choice, hz, language", [
    ("auto", 440, "eng"), ("ger", 1000, "ger"), ("de", 1000, "ger"), ("1", 1000, "ger"), ("en", 440, "eng"),
    ("0", 440, "eng"),
])
def test_audio_stream_option_picks_the_stream(bilingual, jobs_dir, choice, hz, language):
    job, proc = demux(bilingual, jobs_dir, "--audio-stream", choice)
    assert proc.returncode == 0, proc.stderr
    assert dominant_hz(job.root / "demux" / "audio.wav") == pytest.approx(hz, abs=5)
    info = schema.load(job.root / "demux" / "media.json", schema.MediaInfo)
    assert info.audio_language == language
    assert [s.kind for s in info.streams] == ["video", "audio", "audio"]
    assert info.audio_stream_index == (1 if hz == 440 else 2)


def test_unknown_language_lists_the_streams(bilingual, jobs_dir):
    job, proc = demux(bilingual, jobs_dir, "--audio-stream", "fr")
    line = assert_one_line_error(proc, "'fr'", "0 = eng, flac", "1 = ger, flac")
    assert not (job.root / "demux" / "audio.wav").exists()
    assert "AUDIO_STREAM" in line


def test_video_without_audio_fails_in_one_line(tmp_path, jobs_dir):
    media = make_media(tmp_path / "mute.mp4", "-f", "lavfi", "-i", "color=c=red:s=32x32:d=1",
                       "-c:v", "libx264", "-preset", "ultrafast")
    job, proc = demux(media, jobs_dir)
    assert_one_line_error(proc, "mute.mp4 has no audio stream; subtitles need speech")
    assert not (job.root / "demux" / "audio.wav").exists()
    assert not (job.root / "demux" / "media.json").exists()


def test_text_file_named_mp4_fails_in_one_line(tmp_path, jobs_dir):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 20)
    job, proc = demux(fake, jobs_dir)
    assert_one_line_error(proc, "notes.mp4 is not a media file ffmpeg can read")
    assert not (job.root / "demux" / "audio.wav").exists()


def test_zero_duration_fails_in_one_line(tmp_path, jobs_dir):
    empty_audio = make_media(tmp_path / "nothing.wav", "-f", "lavfi", "-i", "anullsrc", "-t", "0")
    job, proc = demux(empty_audio, jobs_dir)
    assert_one_line_error(proc, "zero duration")
    assert not (job.root / "demux" / "audio.wav").exists()


def test_path_with_spaces_and_non_ascii(tmp_path, jobs_dir):
    folder = tmp_path / "Amélie à Paris"
    folder.mkdir()
    media = make_media(folder / "film 1.mp4", "-f", "lavfi", "-i", "testsrc=s=32x32:r=5:d=2", "-f", "lavfi",
                       "-i", "sine=f=440:d=2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest")
    job, proc = demux(media, jobs_dir)
    assert proc.returncode == 0, proc.stderr
    assert wav_samples(job.root / "demux" / "audio.wav")[1] == 16000
    assert schema.load(job.root / "demux" / "media.json", schema.MediaInfo).source_name == "film 1.mp4"


def test_run_reports_progress_and_metrics(tmp_path):
    media = make_media(tmp_path / "tone.flac", "-f", "lavfi", "-i", "sine=f=440:d=2", "-metadata:s:a:0", "language=fre")
    calls = []
    outputs = {"audio": tmp_path / "audio.wav", "media_info": tmp_path / "media.json"}
    report = run({"media": media}, outputs, DemuxOptions(), lambda step, done, total=None: calls.append((step, done, total)))
    assert calls[-1] == ("decoding", pytest.approx(2.0, abs=0.02), pytest.approx(2.0, abs=0.02))
    assert report.metrics["audio_stream"] == 0 and report.metrics["channels"] == 1
    assert report.metrics["duration_s"] == pytest.approx(2.0, abs=0.02)
    assert report.model["tool"] == "ffmpeg" and report.model["version"]
    assert outputs["media_info"].is_file()
