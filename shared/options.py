"""Options: one dataclass per stage, units in field names, one name per setting.

Each field carries its environment variable and a help line in its metadata.
Values resolve in one order, lowest first:

    dataclass default < job config file (config.json) < environment < command-line flag

and the resolved values are recorded in the stage's lock. A dict (from JSON,
the environment or argv) is converted into the options class once, here.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass, field
from typing import Any, Mapping

from shared.errors import InputError


def setting(default: Any, env: str, help: str, choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with its environment variable and a help line."""
    meta = {"env": env, "help": help, "choices": choices}
    if isinstance(default, (list, dict, set)):
        raise TypeError("use tuples for sequence defaults")
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class DemuxOptions:
    """Audio extraction. ``audio_stream`` picks the audio track: ``auto`` takes
    the default (or first) audio stream, a number is the index among audio
    streams (0 = first), anything else is a language code (``eng``/``en``)."""

    audio_stream: str = setting("auto", "AUDIO_STREAM", "audio track: auto, an index among audio streams (0 = first), or a language code")
    sample_rate_hz: int = setting(16000, "DEMUX_SAMPLE_RATE_HZ", "sample rate of the extracted mono PCM audio")


@dataclass(frozen=True)
class SileroVadOptions:
    """Speech detection with Silero VAD. Defaults follow silero's own, with a
    longer minimum silence so that short pauses inside a sentence do not cut a
    region, and a 30 s maximum region (Whisper's window)."""

    threshold: float = setting(0.5, "VAD_THRESHOLD", "speech probability above which a frame is speech")
    min_speech_duration_ms: int = setting(250, "VAD_MIN_SPEECH_DURATION_MS", "shorter speech regions are dropped")
    min_silence_duration_ms: int = setting(500, "VAD_MIN_SILENCE_DURATION_MS", "silence needed to end a region")
    speech_pad_ms: int = setting(200, "VAD_SPEECH_PAD_MS", "padding added on both sides of a region")
    max_speech_duration_s: float = setting(30.0, "VAD_MAX_SPEECH_DURATION_S", "longer regions are split at their longest pause")
    model: str = setting("silero-vad", "VAD_MODEL", "silero-vad (embedded) or a path to a silero ONNX sequence model")


@dataclass(frozen=True)
class AsrOptions:
    """Speech recognition with faster-whisper on CTranslate2, batched over the
    speech regions. ``device=auto`` uses CUDA when CTranslate2 sees a GPU,
    else CPU; ``compute_type=auto`` is float16 on CUDA and int8 on CPU."""

    model: str = setting("tiny.en", "ASR_MODEL", "tiny.en (embedded), base (embedded multilingual when installed), any faster-whisper name or CT2 folder")
    language: str = setting("auto", "ASR_LANGUAGE", "language code, or auto to detect it")
    task: str = setting("transcribe", "ASR_TASK", "transcribe, or translate (speech to English, multilingual models)", ("transcribe", "translate"))
    device: str = setting("auto", "ASR_DEVICE", "auto, cpu or cuda", ("auto", "cpu", "cuda"))
    compute_type: str = setting("auto", "ASR_COMPUTE_TYPE", "auto (float16 on CUDA, int8 on CPU) or a CTranslate2 compute type")
    batch_size: int = setting(8, "ASR_BATCH_SIZE", "speech chunks decoded together")
    beam_size: int = setting(5, "ASR_BEAM_SIZE", "beam search width")
    cpu_threads: int = setting(0, "ASR_CPU_THREADS", "CPU threads for CTranslate2 (0 = all cores)")
    initial_prompt: str = setting("", "ASR_INITIAL_PROMPT", "text given to Whisper as preceding context (names, spelling)")
    hotwords: str = setting("", "ASR_HOTWORDS", "words Whisper should prefer, separated by spaces")
    max_chunk_duration_s: float = setting(30.0, "ASR_MAX_CHUNK_DURATION_S", "speech regions are merged into chunks up to this long")


@dataclass(frozen=True)
class SubtitleOptions:
    """Subtitle files and cue layout. Defaults are a Netflix-like profile:
    42 characters a line, 2 lines, 17 characters/second target and 20 hard
    cap, cues 0.833-7 s long, at least 83 ms (2 frames at 24 fps) apart."""

    formats: tuple[str, ...] = setting(("srt", "vtt", "ass", "json", "txt", "tsv"), "SUBTITLE_FORMATS", "comma-separated: srt, vtt, ass, json, txt, tsv")
    max_chars_per_line: int = setting(42, "SUBTITLE_MAX_CHARS_PER_LINE", "characters per line")
    max_lines: int = setting(2, "SUBTITLE_MAX_LINES", "lines per cue")
    target_chars_per_s: float = setting(17.0, "SUBTITLE_TARGET_CHARS_PER_S", "reading speed cues are laid out for")
    max_chars_per_s: float = setting(20.0, "SUBTITLE_MAX_CHARS_PER_S", "reading speed above which a cue is reported")
    min_duration_ms: int = setting(833, "SUBTITLE_MIN_DURATION_MS", "shortest cue")
    max_duration_ms: int = setting(7000, "SUBTITLE_MAX_DURATION_MS", "longest cue")
    min_gap_ms: int = setting(83, "SUBTITLE_MIN_GAP_MS", "shortest gap between two cues")
    pause_break_ms: int = setting(500, "SUBTITLE_PAUSE_BREAK_MS", "a pause this long between words ends a cue")


@dataclass(frozen=True)
class MuxOptions:
    """Soft subtitle tracks: mov_text in MP4/MOV, SRT (or ASS) in MKV; video
    and audio are copied, never re-encoded."""

    mkv_subtitle_format: str = setting("srt", "MUX_MKV_SUBTITLE_FORMAT", "track format in MKV: srt or ass", ("srt", "ass"))


# --- conversion at the boundary --------------------------------------------------------------


def fields_of(options_cls: type) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(options_cls)


def _convert(options_cls: type, f: dataclasses.Field, raw: Any, origin: str) -> Any:
    hint = typing.get_type_hints(options_cls)[f.name]
    where = f"{f.name} ({origin})"
    try:
        if hint is bool:
            if isinstance(raw, bool):
                value = raw
            elif str(raw).strip().lower() in ("1", "true", "yes", "on"):
                value = True
            elif str(raw).strip().lower() in ("0", "false", "no", "off"):
                value = False
            else:
                raise ValueError(raw)
        elif hint is int:
            if isinstance(raw, bool):
                raise ValueError(raw)
            value = int(raw)
        elif hint is float:
            value = float(raw)
        elif hint == tuple[str, ...]:
            items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
            value = tuple(str(item).strip() for item in items if str(item).strip())
        else:
            value = str(raw)
    except (TypeError, ValueError):
        raise InputError(f"option {where}: {raw!r} is not a valid {getattr(hint, '__name__', hint)}") from None
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise InputError(f"option {where}: {value!r} is not one of {', '.join(choices)}")
    return value


def resolve(
    options_cls: type,
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
):
    """Build the options: defaults < config < environment < flags."""
    environ = os.environ if environ is None else environ
    config = dict(config or {})
    flags = dict(flags or {})
    names = {f.name for f in fields_of(options_cls)}
    for source, values in (("job config", config), ("command line", flags)):
        unknown = set(values) - names
        if unknown:
            raise InputError(
                f"unknown option(s) {', '.join(sorted(unknown))} in {source} for {options_cls.__name__}; "
                f"known: {', '.join(sorted(names))}"
            )
    values: dict[str, Any] = {}
    for f in fields_of(options_cls):
        env = f.metadata.get("env")
        if f.name in flags and flags[f.name] is not None:
            values[f.name] = _convert(options_cls, f, flags[f.name], "command line")
        elif env and environ.get(env, "") != "":
            values[f.name] = _convert(options_cls, f, environ[env], f"environment {env}")
        elif f.name in config:
            values[f.name] = _convert(options_cls, f, config[f.name], "job config")
    return options_cls(**values)


def to_dict(options: Any) -> dict[str, Any]:
    """JSON-ready values (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(options).items()}


def settings_table(options_classes: Mapping[str, type]) -> str:
    """The Markdown settings table for the README (one row per setting)."""
    rows = ["| variable | stage | default | meaning |", "|---|---|---|---|"]
    for stage, cls in options_classes.items():
        for f in fields_of(cls):
            default = f.default
            if isinstance(default, tuple):
                default = ",".join(default)
            shown = f"`{default}`" if default != "" else "(empty)"
            rows.append(f"| `{f.metadata['env']}` | {stage} | {shown} | {f.metadata['help']} |")
    return "\n".join(rows)


if __name__ == "__main__":  # python -m shared.options prints the README's settings table
    from shared import graph

    print(settings_table(graph.options_by_stage()))
