"""ASR_MODEL=auto, the default, on real audio (demux, silero-vad, asr; ASR_MODEL left unset):
the film's language picks the model. German speech goes to the multilingual model and is
transcribed in German; English goes to the English model and keeps its accuracy."""

import pytest

from bench.metrics import word_error_rate
from host.jobs import create_job
from shared import graph, schema
from tests.conftest import JFK_REFERENCE, make_media, run_stage

pytestmark = pytest.mark.integration

ALONE = {"SKIP_STAGES": ",".join(s.name for s in graph.STAGES if s.skippable)}
GERMAN_FROM_S = 30.9  # multilingual.mp3: the MIT licence's grant in English, then (from here) in German
# words of the German grant ("Jeden, der diese Software und die dazugehörigen Dokumentationsdateien erhält, ...")
GERMAN_WORDS = ("software", "dokumentationsdateien", "rechte", "kopieren", "veröffentlichen", "verkaufen",
                "ändern", "jeden", "erlaubnis", "kostenlos")
# multilingual.mp3's English half (../shared/eval-data/README.md)
ENGLISH_HALF = ("Permission is hereby granted, free of charge, to any person obtaining a copy of the software and "
                "associated documentation files to deal in the software without restriction, including without "
                "limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell "
                "copies of the software, and to permit persons to whom the software is furnished to do so, subject "
                "to the following conditions. The above copyright notice and this permission notice shall be "
                "included in all copies or substantial portions of the software.")


@pytest.fixture(autouse=True)
def default_model(monkeypatch):
    monkeypatch.delenv("ASR_MODEL", raising=False)  # the default, auto: nothing asks for it


def auto_job(jobs_dir, source):
    job = create_job(source, jobs_dir=jobs_dir)
    for stage in ("demux", "silero-vad"):
        result = run_stage(stage, job.id, jobs_dir, **ALONE)
        assert result.returncode == 0, result.stderr
    result = run_stage("asr", job.id, jobs_dir, **ALONE)
    assert result.returncode == 0, result.stderr
    return schema.load(job.root / "asr" / "transcript.json", schema.Transcript), result


def test_german_speech_chooses_the_multilingual_model(eval_data, jobs_dir, tmp_path):
    clip = make_media(tmp_path / "german.wav", "-ss", str(GERMAN_FROM_S), "-i", str(eval_data / "multilingual.mp3"))
    transcript, result = auto_job(jobs_dir, clip)
    choice = transcript.producer.details["model_choice"]
    assert transcript.language == "de"
    assert choice["language"] == "de" and choice["probability"] >= 0.8, choice
    assert choice["model"]["name"] == "base" and transcript.producer.model["name"] == "base"
    assert choice["detected_by"] == "base" and choice["windows"], choice
    assert transcript.producer.options["model"] == "auto"
    assert "language de (" in result.stderr and "→ model base" in result.stderr
    text = transcript.text.casefold()
    found = [w for w in GERMAN_WORDS if w in text]
    assert len(found) >= 3, (found, transcript.text)


def test_english_speech_chooses_the_english_model_and_keeps_its_accuracy(eval_data, jobs_dir):
    transcript, _ = auto_job(jobs_dir, eval_data / "jfk.flac")
    choice = transcript.producer.details["model_choice"]
    assert choice["language"] == "en" and transcript.language == "en"
    assert choice["model"]["name"] == "tiny.en"  # the embedded English model (no larger one cached here)
    wer = word_error_rate(JFK_REFERENCE, transcript.text)
    assert wer <= 0.10, (wer, transcript.text)


def test_a_film_half_in_english_half_in_german_gets_the_multilingual_model(eval_data, jobs_dir):
    transcript, _ = auto_job(jobs_dir, eval_data / "multilingual.mp3")
    choice = transcript.producer.details["model_choice"]
    assert len(choice["windows"]) == 2, choice  # 58 s of speech: the English half and the German half both heard
    assert choice["model"]["name"] == "base" and choice["probability"] < 0.8, choice
    assert {s.language for s in transcript.segments} >= {"en", "de"}
    assert len([w for w in GERMAN_WORDS if w in transcript.text.casefold()]) >= 3, transcript.text
    english = " ".join(w.text for w in transcript.words if w.start_s < GERMAN_FROM_S)
    wer = word_error_rate(ENGLISH_HALF, english)
    assert wer <= 0.10, (wer, english)  # the target for the English half, with the default settings


def test_no_speech_means_no_listening(eval_data, jobs_dir, tmp_path):
    from tests.integration.test_asr import prepared_job

    job = prepared_job(jobs_dir, eval_data / "jfk.flac", [], tmp_path)
    result = run_stage("asr", job.id, jobs_dir, **ALONE)
    assert result.returncode == 0, result.stderr
    transcript = schema.load(job.root / "asr" / "transcript.json", schema.Transcript)
    choice = transcript.producer.details["model_choice"]
    assert transcript.segments == () and choice["windows"] == [] and choice["detected_by"] == ""
    assert choice["model"]["name"] == "tiny.en" and "loading language ID model" not in result.stderr
