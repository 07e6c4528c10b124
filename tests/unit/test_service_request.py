"""host/service/request.py: whisper-asr-webservice's parameters onto the pipeline's settings."""

from __future__ import annotations

import pytest

from host.service.request import JobRequest, RequestError, asr_request, job_id_for


def flag(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def test_bazarr_call_maps_onto_the_runner(monkeypatch):
    monkeypatch.delenv("ASR_MODEL", raising=False)
    request, output, encode = asr_request({"task": "transcribe", "language": "en", "output": "srt", "encode": "false",
                                           "video_file": "ignored", "word_timestamps": "true"})
    assert (output, encode) == ("srt", False)
    args = request.runner_args()
    assert flag(args, "--asr-language") == "en" and flag(args, "--asr-model") == "auto"  # the asr stage's default
    assert flag(args, "--until") == "subtitles"
    skipped = {args[i + 1] for i, a in enumerate(args) if a == "--skip"}
    assert {"diarization", "speakers", "pyannote-vad", "lyrics-detection"} <= skipped


def test_other_languages_and_translation_take_the_multilingual_model(monkeypatch):
    monkeypatch.delenv("ASR_MODEL", raising=False)
    assert asr_request({"language": "de"})[0].model == "auto"  # the request's language picks, without listening
    monkeypatch.setenv("ASR_MODEL", "tiny.en")
    assert asr_request({"language": "de"})[0].model == "base"
    assert asr_request({"language": "en"})[0].model == "tiny.en"
    translate = asr_request({"task": "translate"})[0]
    assert translate.model == "base" and flag(translate.runner_args(), "--asr-task") == "translate"
    monkeypatch.setenv("ASR_MODEL", "large-v3")
    assert asr_request({"language": "de"})[0].model == "large-v3"


def test_diarize_runs_the_speaker_stages_with_bounds():
    request = asr_request({"diarize": "true", "min_speakers": "2", "max_speakers": "3"})[0]
    args = request.runner_args()
    assert "diarization" not in {args[i + 1] for i, a in enumerate(args) if a == "--skip"}
    assert flag(args, "--diarization-min-speakers") == "2" and flag(args, "--diarization-max-speakers") == "3"


@pytest.mark.parametrize(("params", "param"), [
    ({"task": "summarize"}, "task"), ({"output": "docx"}, "output"), ({"language": "xx"}, "language"),
    ({"encode": "maybe"}, "encode"), ({"vad_filter": "2"}, "vad_filter"), ({"min_speakers": "two"}, "min_speakers"),
    ({"min_speakers": "3", "max_speakers": "2"}, "min_speakers"), ({"max_speakers": "999"}, "max_speakers"),
])
def test_invalid_values_name_the_parameter(params, param):
    with pytest.raises(RequestError) as err:
        asr_request(params)
    assert err.value.param == param and err.value.reason


def test_job_id_is_the_media_and_the_options():
    sha = "ab" * 32
    en, de = JobRequest(language="en"), JobRequest(language="de")
    assert job_id_for("My Film.mkv", sha, en) == job_id_for("My Film.mkv", sha, JobRequest(language="en"))
    assert job_id_for("My Film.mkv", sha, en) != job_id_for("My Film.mkv", sha, de)
    assert "/" not in job_id_for("../../x y.mp4", sha, en)
