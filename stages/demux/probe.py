"""ffprobe, read as JSON, turned into the fields of :class:`shared.schema.MediaInfo`.

The JSON parsing (:func:`parse`) is pure so that tests can feed it recorded
ffprobe output; :func:`probe` runs ffprobe and maps its failures to one-line
errors a user can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.errors import InputError
from shared.ffmpeg import ffprobe
from shared.schema import StreamInfo

PROBE_TIMEOUT_S = 300


@dataclass(frozen=True)
class Probed:
    """What ffprobe told about a file."""

    container: str  # ffprobe format_name, e.g. "matroska,webm"
    duration_s: float | None  # None when neither the container nor a stream states one
    streams: tuple[StreamInfo, ...]
    channel_layouts: dict[int, str] = field(default_factory=dict)  # stream index -> ffmpeg layout name

    @property
    def audio_streams(self) -> list[StreamInfo]:
        return [s for s in self.streams if s.kind == "audio"]


def _tag(tags: dict[str, Any] | None, name: str) -> str:
    """A tag by case-insensitive name (Ogg and Matroska spell them in capitals)."""
    for key, value in (tags or {}).items():
        if key.lower() == name:
            return str(value).strip()
    return ""


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):  # absent or "N/A"
        return None
    return seconds if seconds >= 0 else None


def _int(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def parse(data: dict[str, Any]) -> Probed:
    """ffprobe's ``-show_format -show_streams`` JSON -> :class:`Probed`."""
    fmt = data.get("format") or {}
    streams: list[StreamInfo] = []
    layouts: dict[int, str] = {}
    stream_durations: list[float] = []
    for raw in data.get("streams") or []:
        index = _int(raw.get("index"))
        language = _tag(raw.get("tags"), "language").lower()
        streams.append(
            StreamInfo(
                index=index,
                kind=str(raw.get("codec_type") or "data"),
                codec=str(raw.get("codec_name") or raw.get("codec_tag_string") or ""),
                language="" if language == "und" else language,
                channels=_int(raw.get("channels")),
                sample_rate_hz=_int(raw.get("sample_rate")),
                title=_tag(raw.get("tags"), "title"),
                default=bool((raw.get("disposition") or {}).get("default")),
            )
        )
        if raw.get("channel_layout"):
            layouts[index] = str(raw["channel_layout"])
        seconds = _seconds(raw.get("duration"))
        if seconds is not None:
            stream_durations.append(seconds)
    duration = _seconds(fmt.get("duration"))
    if duration is None and stream_durations:
        duration = max(stream_durations)
    return Probed(str(fmt.get("format_name") or ""), duration, tuple(streams), layouts)


def probe(path: Path) -> Probed:
    """Run ffprobe on ``path``; InputError when it is not media ffmpeg can read."""
    returncode, data, reason = ffprobe(path, "format", "streams", timeout_s=PROBE_TIMEOUT_S)
    if returncode != 0 or not (data.get("streams") or (data.get("format") or {}).get("format_name")):
        detail = f": {reason}" if reason else ""
        raise InputError(f"{path.name} is not a media file ffmpeg can read{detail}",
                         "check that it is a complete video or audio file")
    return parse(data)


def describe_stream(stream: StreamInfo) -> str:
    """``eng, aac, 2 ch, default`` — for messages listing streams."""
    parts = [stream.language or "untagged", stream.codec or "unknown codec"]
    if stream.channels:
        parts.append(f"{stream.channels} ch")
    if stream.title:
        parts.append(repr(stream.title))
    if stream.default:
        parts.append("default")
    return ", ".join(parts)
