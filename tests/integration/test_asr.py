"""The asr stage on real audio with the embedded model: accuracy, prompt and
hotwords reaching the model, and the empty case."""

import json

import pytest

from bench.metrics import word_error_rate
from host.jobs import create_job
from shared import graph, schema
from tests.conftest import JFK_REFERENCE, make_media, run_stage

pytestmark = pytest.mark.integration


def prepared_job(jobs_dir, source, regions, tmp_path):
    """A job whose demux and silero-vad outputs are written by hand, so asr runs alone."""
    job = create_job(source, jobs_dir=jobs_dir)
    (job.root / "demux").mkdir()
    make_media(job.root / "demux" / "audio.wav", "-i", str(source), "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le")
    (job.root / "silero-vad").mkdir()
    duration = regions[-1][1] if regions else 1.0
    schema.write(job.root / "silero-vad" / "speech.json",
                 schema.SpeechRegions(tuple(schema.Region(a, b) for a, b in regions), duration))
    return job


# asr alone: every optional stage (pre-ner's prompt, ...) switched off
ALONE = {"SKIP_STAGES": ",".join(s.name for s in graph.STAGES if s.skippable)}


def transcript_of(job):
    return schema.load(job.root / "asr" / "transcript.json", schema.Transcript)


def test_jfk_word_error_rate_and_word_timings(eval_data, jobs_dir, tmp_path):
    job = prepared_job(jobs_dir, eval_data / "jfk.flac", [(0.0, 11.0)], tmp_path)
    result = run_stage("asr", job.id, jobs_dir, **ALONE)
    assert result.returncode == 0, result.stderr
    transcript = transcript_of(job)
    wer = word_error_rate(JFK_REFERENCE, transcript.text)
    assert wer <= 0.10, (wer, transcript.text)
    words = transcript.words
    assert len(words) >= 20
    assert all(0 <= w.start_s <= w.end_s <= 11.5 for w in words)
    assert all(a.start_s <= b.start_s for a, b in zip(words, words[1:]))
    assert transcript.language == "en"
    assert transcript.producer.model["source"] == "embedded"
    assert transcript.producer.details["compute_type"] == "int8"


@pytest.mark.parametrize("variable", ["ASR_HOTWORDS", "ASR_INITIAL_PROMPT"])
def test_prompt_and_hotwords_reach_the_model(eval_data, jobs_dir, tmp_path, variable):
    """tiny.en writes "comfy eye" for this clip unless the word is given to it."""
    job = prepared_job(jobs_dir, eval_data / "hotwords.mp3", [(0.0, 4.0)], tmp_path)
    plain = run_stage("asr", job.id, jobs_dir, **ALONE)
    assert plain.returncode == 0, plain.stderr
    assert "ComfyUI" not in transcript_of(job).text
    prompted = run_stage("asr", job.id, jobs_dir, **ALONE, **{variable: "ComfyUI"})
    assert prompted.returncode == 0, prompted.stderr
    assert json.loads(prompted.stdout.splitlines()[-1])["status"] == "ran"  # the option change made it stale
    transcript = transcript_of(job)
    assert "ComfyUI" in transcript.text
    assert transcript.producer.options[variable.removeprefix("ASR_").lower()] == "ComfyUI"


def test_no_speech_regions_give_an_empty_transcript(eval_data, jobs_dir, tmp_path):
    job = prepared_job(jobs_dir, eval_data / "jfk.flac", [], tmp_path)
    result = run_stage("asr", job.id, jobs_dir, **ALONE)
    assert result.returncode == 0, result.stderr
    assert transcript_of(job).segments == ()
    assert "no speech" in result.stderr


def test_english_only_model_refuses_another_language(eval_data, jobs_dir, tmp_path):
    job = prepared_job(jobs_dir, eval_data / "jfk.flac", [(0.0, 11.0)], tmp_path)
    result = run_stage("asr", job.id, jobs_dir, **ALONE, ASR_MODEL="tiny.en", ASR_LANGUAGE="de")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: asr: model tiny.en is English-only")
    assert "Traceback" not in result.stderr
    assert not (job.root / "asr" / "transcript.json").exists()


def test_speech_at_the_end_of_a_window_is_not_lost(eval_data, jobs_dir, tmp_path):
    """jfk, the phone call, then a clean voice: Whisper stops after the call when that
    voice ends the same window (measured in bench/asr_overhead); the second pass over
    the untranscribed tail brings the sentence back."""
    from bench.audio_fixtures import speech_wav
    from tests.integration.test_pipeline import job_folder, runner

    wav, _ = speech_wav(50.0, tmp_path / "cache", eval_data=eval_data, flite_texts=())
    result = runner(wav, jobs_dir, "--until", "asr", SKIP_STAGES=ALONE["SKIP_STAGES"])
    assert result.returncode == 0, result.stderr
    text = schema.load(job_folder(result) / "asr" / "transcript.json", schema.Transcript).text.lower()
    assert "diane" in text and "curtain" in text, text


def test_repetition_penalty_reaches_the_model_and_stops_the_hello_loop(eval_data, jobs_dir, tmp_path):
    """tiny.en loops "Hello." on the first seconds of sample.wav (Diane and Sheila say
    "Hello?" "Hello?" "Oh, hello."); a penalty of 1.1 breaks the loop."""
    job = prepared_job(jobs_dir, eval_data / "sample.wav", [(6.584, 30.0)], tmp_path)  # silero-vad's region
    # the model's own output, nothing taken out: what the penalty changes
    plain = run_stage("asr", job.id, jobs_dir, **ALONE, ASR_REMOVE_HALLUCINATIONS="false")
    assert plain.returncode == 0, plain.stderr
    looping = transcript_of(job).text.lower().count("hello")
    penalised = run_stage("asr", job.id, jobs_dir, **ALONE, ASR_REPETITION_PENALTY="1.1", ASR_REMOVE_HALLUCINATIONS="false")
    assert penalised.returncode == 0, penalised.stderr
    transcript = transcript_of(job)
    assert transcript.text.lower().count("hello") < looping, (looping, transcript.text)
    assert transcript.producer.options["repetition_penalty"] == 1.1
    # by default the loop is taken out (its first "Hello." kept) and recorded as a repetition
    cleaned = run_stage("asr", job.id, jobs_dir, **ALONE)
    assert cleaned.returncode == 0, cleaned.stderr
    transcript = transcript_of(job)
    assert transcript.text.lower().count("hello") < looping, (looping, transcript.text)
    assert any(r.reason == "repetition" and "hello" in r.text.lower() for r in transcript.removed), transcript.removed


def test_a_nonsense_decoding_setting_is_refused_before_the_model_loads(eval_data, jobs_dir, tmp_path):
    job = prepared_job(jobs_dir, eval_data / "jfk.flac", [(0.0, 11.0)], tmp_path)
    result = run_stage("asr", job.id, jobs_dir, **ALONE, ASR_REPETITION_PENALTY="0")
    assert result.returncode == 2 and "ASR_REPETITION_PENALTY" in result.stderr
