"""Silero VAD on the team's eval audio, and the stage run as users run it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from host.jobs import create_job
from shared import schema
from shared.job import Job
from shared.options.silero_vad import SileroVadOptions
from stages.silero_vad.stage import detect
from tests.conftest import make_media, run_stage

pytestmark = pytest.mark.integration


def union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)


def rttm_speech(path: Path) -> list[tuple[float, float]]:
    turns = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if fields and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            turns.append((start, start + duration))
    return union(turns)


def spans(record: schema.SpeechRegions) -> list[tuple[float, float]]:
    return [(r.start_s, r.end_s) for r in record.regions]


def test_sample_speech_matches_the_rttm(eval_data):
    reference = rttm_speech(eval_data / "sample.rttm")
    reference_s = sum(e - s for s, e in reference)
    assert reference_s == pytest.approx(22.46, abs=0.05)
    record, _ = detect(eval_data / "sample.wav", SileroVadOptions())
    detected = spans(record)
    detected_s = record.speech_duration_s
    assert abs(detected_s - reference_s) <= 0.15 * reference_s, (detected_s, reference_s, detected)
    assert overlap(detected, reference) >= 0.90 * reference_s, detected
    assert record.audio_duration_s == pytest.approx(30.0)


def test_silence_has_no_speech(tmp_path):
    wav = tmp_path / "silence.wav"
    soundfile.write(str(wav), np.zeros(16000 * 60, dtype=np.float32), 16000)
    record, metrics = detect(wav, SileroVadOptions())
    assert record.regions == () and metrics["frames"] == 1875


# JFK pauses for about a second three times ("...Americans, | ask not | what your country
# can do for you, | ask what..."); the probabilities are near zero there.
JFK_PAUSES = ((2.2, 3.3), (4.4, 5.4), (7.6, 8.2))


@pytest.fixture
def jfk_wav(eval_data, tmp_path) -> Path:
    return make_media(tmp_path / "jfk.wav", "-i", str(eval_data / "jfk.flac"), "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le")


def test_jfk_regions_cover_the_speech_and_break_only_at_its_pauses(jfk_wav):
    record, _ = detect(jfk_wav, SileroVadOptions())
    detected = spans(record)
    assert 1 <= len(detected) <= 4, detected
    assert overlap(detected, [(1.0, 11.0)]) >= 0.80 * 10.0, detected
    assert detected[0][0] <= 0.5 and detected[-1][1] >= 10.5, detected
    for (_, end), (start, _) in zip(detected, detected[1:]):
        assert any(a - 0.3 <= end and start <= b + 0.3 for a, b in JFK_PAUSES), (end, start)


def test_jfk_is_one_or_two_regions_when_second_long_pauses_do_not_end_speech(jfk_wav):
    record, _ = detect(jfk_wav, SileroVadOptions(min_silence_duration_ms=1200))
    detected = spans(record)
    assert 1 <= len(detected) <= 2, detected
    assert overlap(detected, [(1.0, 11.0)]) >= 0.95 * 10.0, detected


def make_job(eval_data: Path, jobs_dir: Path, audio: Path | None = None) -> Job:
    job = create_job(eval_data / "sample.wav", jobs_dir=jobs_dir)
    demux = job.stage_dir("demux")
    demux.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(audio or eval_data / "sample.wav", demux / "audio.wav")
    return job


def last_json_line(stdout: str) -> dict:
    return json.loads([line for line in stdout.splitlines() if line.startswith("{")][-1])


def test_cli_runs_then_is_fresh_then_reruns_on_a_new_threshold(eval_data, jobs_dir):
    job = make_job(eval_data, jobs_dir)
    first = run_stage("silero-vad", job.id, jobs_dir)
    assert first.returncode == 0, first.stderr
    assert last_json_line(first.stdout)["status"] == "ran"
    speech = job.stage_dir("silero-vad") / "speech.json"
    data = json.loads(speech.read_text())
    assert data["schema"] == schema.SCHEMA_VERSION
    record = schema.SpeechRegions.from_json(data)
    assert record.regions and record.producer.stage == "silero-vad" and record.producer.details["frames"] == 938
    assert record.producer.options["threshold"] == 0.5

    second = run_stage("silero-vad", job.id, jobs_dir)
    assert second.returncode == 0, second.stderr
    assert last_json_line(second.stdout)["status"] == "fresh"

    third = run_stage("silero-vad", job.id, jobs_dir, VAD_THRESHOLD="0.6")
    assert third.returncode == 0, third.stderr
    assert last_json_line(third.stdout)["status"] == "ran"
    assert schema.load(speech, schema.SpeechRegions).producer.options["threshold"] == 0.6


def test_cli_refuses_audio_that_is_not_16k_mono(eval_data, jobs_dir, tmp_path):
    stereo = make_media(tmp_path / "stereo.wav", "-i", str(eval_data / "sample.wav"), "-ac", "2", "-ar", "44100")
    job = make_job(eval_data, jobs_dir, stereo)
    result = run_stage("silero-vad", job.id, jobs_dir)
    assert result.returncode == 1
    assert "rerun demux" in result.stderr and "Traceback" not in result.stderr
    assert not (job.stage_dir("silero-vad") / "speech.json").exists()
