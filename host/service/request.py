"""What a client asks for, mapped onto the pipeline's settings.

A :class:`JobRequest` is the service's whole say in a job: it becomes the
runner's flags (``--asr-language``, ``--skip diarization``, ...), and its
:meth:`JobRequest.key` together with the media's content hash names the job, so
the same media with the same options is the same job (two clients asking for it
share one run). Values are checked here, once, at the boundary: a bad one raises
:class:`RequestError` naming the parameter (the API answers 422).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from shared.job import slug, validate_job_id
from shared.languages import LANGUAGE_NAMES
from shared.options.asr import AsrOptions

__all__ = ["OUTPUT_FORMATS", "JobRequest", "RequestError", "asr_request", "job_id_for", "parse_bool"]

OUTPUT_FORMATS = ("txt", "vtt", "srt", "tsv", "json")
ALL_FORMATS = "srt,vtt,ass,json,txt,tsv"
TASKS = ("transcribe", "translate")
SPEAKER_STAGES = ("pyannote-vad", "diarization", "speakers")
# what /asr needs not: whisper-asr-webservice returns the words, not songs, names or a muxed video
ASR_ONLY_SKIPS = ("lyrics-detection", "pre-ner", "post-ner", "translation", "second-pass-translation")
UNTIL = ("subtitles", "mux")
MULTILINGUAL_MODEL = "base"  # the embedded multilingual Whisper model (shared/models.py)


class RequestError(ValueError):
    """A parameter a client sent is invalid: ``param`` and a reason a person can act on."""

    def __init__(self, param: str, reason: str):
        super().__init__(f"{param}: {reason}")
        self.param = param
        self.reason = reason


def parse_bool(param: str, raw: str | bool | None, default: bool = False) -> bool:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        return raw
    text = raw.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise RequestError(param, f"{raw!r} is not a boolean (true or false)")


def parse_int(param: str, raw: str | int | None, low: int, high: int) -> int:
    if raw is None or raw == "":
        return 0
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise RequestError(param, f"{raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise RequestError(param, f"{value} is outside {low}..{high}")
    return value


def _whisper_languages() -> tuple[str, ...]:
    try:
        from faster_whisper.tokenizer import _LANGUAGE_CODES  # Whisper's own list (99 codes)
        return tuple(_LANGUAGE_CODES)
    except ImportError:  # a service without faster-whisper: the languages the pipeline names
        return tuple(LANGUAGE_NAMES)


def parse_language(param: str, raw: str | None) -> str:
    if raw is None or raw.strip() == "" or raw.strip().lower() == "auto":
        return "auto"
    code = raw.strip().lower()
    if code not in _whisper_languages():
        raise RequestError(param, f"{raw!r} is not a Whisper language code (e.g. en, de, fr; or leave it out to detect)")
    return code


def parse_choice(param: str, raw: str | None, choices: tuple[str, ...], default: str) -> str:
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise RequestError(param, f"{raw!r} is not one of {', '.join(choices)}")
    return raw


def asr_model(task: str, language: str, translating: bool = False) -> str:
    """The Whisper model: the service's ASR_MODEL (the asr stage's default, ``auto``: the film's
    language picks it, or the request's language without listening), unless it is English-only
    and the request needs another language or speech translation: then the multilingual one."""
    model = os.environ.get("ASR_MODEL") or AsrOptions().model
    if model.endswith(".en") and (task == "translate" or language not in ("auto", "en") or translating):
        return MULTILINGUAL_MODEL
    return model


@dataclass(frozen=True)
class JobRequest:
    """The options of one job as the service runs it."""

    task: str = "transcribe"
    language: str = "auto"  # a Whisper code, or auto: detected
    initial_prompt: str = ""
    diarize: bool = False
    min_speakers: int = 0
    max_speakers: int = 0
    target_languages: tuple[str, ...] = ()
    until: str = "subtitles"  # subtitles: the files only; mux: also the video with subtitle tracks
    skip: tuple[str, ...] = ()  # stages switched off besides the speaker stages
    extras_sha256: str = ""  # hash of the metadata and glossary given with the request
    model: str = field(default="")  # filled from the environment when left empty

    def __post_init__(self) -> None:
        if not self.model:
            object.__setattr__(self, "model", asr_model(self.task, self.language, bool(self.target_languages)))

    def skipped(self) -> tuple[str, ...]:
        return tuple(sorted({*self.skip, *(() if self.diarize else SPEAKER_STAGES)}))

    def runner_args(self) -> list[str]:
        """The runner's flags for this request (after the media, before ``--``)."""
        args = ["--asr-model", self.model, "--asr-task", self.task, "--asr-language", self.language,
                "--subtitles-formats", ALL_FORMATS, "--until", self.until]
        if self.initial_prompt:
            args += ["--asr-initial-prompt", self.initial_prompt]
        if self.target_languages:
            args += ["--translation-target-languages", ",".join(self.target_languages)]
        if self.diarize and self.min_speakers:
            args += ["--diarization-min-speakers", str(self.min_speakers)]
        if self.diarize and self.max_speakers:
            args += ["--diarization-max-speakers", str(self.max_speakers)]
        for name in self.skipped():
            args += ["--skip", name]
        return args

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "target_languages": list(self.target_languages), "skip": list(self.skip)}

    def key(self) -> str:
        """A short hash of everything that changes the result."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:8]


def job_id_for(name: str, media_sha256: str, request: JobRequest) -> str:
    """``<name>-<media hash>-<options hash>``: the same media with the same options is the same job."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return validate_job_id(f"{slug(stem, 40)}-{media_sha256[:8]}-{request.key()}")


def asr_request(params: dict[str, str]) -> tuple[JobRequest, str, bool]:
    """whisper-asr-webservice's ``/asr`` query parameters as (the job request, the output format,
    encode). Unknown parameters are ignored; ``word_timestamps`` and ``vad_filter`` are accepted
    and checked, and change nothing: the pipeline always times words and always finds speech first."""
    task = parse_choice("task", params.get("task"), TASKS, "transcribe")
    language = parse_language("language", params.get("language"))
    output = parse_choice("output", params.get("output"), OUTPUT_FORMATS, "txt")
    encode = parse_bool("encode", params.get("encode"), default=True)
    parse_bool("word_timestamps", params.get("word_timestamps"))
    parse_bool("vad_filter", params.get("vad_filter"))
    diarize = parse_bool("diarize", params.get("diarize"))
    min_speakers = parse_int("min_speakers", params.get("min_speakers"), 0, 64)
    max_speakers = parse_int("max_speakers", params.get("max_speakers"), 0, 64)
    if min_speakers and max_speakers and min_speakers > max_speakers:
        raise RequestError("min_speakers", f"{min_speakers} is more than max_speakers {max_speakers}")
    prompt = (params.get("initial_prompt") or "").strip()
    if len(prompt) > 2000:
        raise RequestError("initial_prompt", "longer than 2000 characters (Whisper reads only its last 223 tokens)")
    request = JobRequest(task=task, language=language, initial_prompt=prompt, diarize=diarize,
                         min_speakers=min_speakers, max_speakers=max_speakers, skip=ASR_ONLY_SKIPS)
    return request, output, encode
