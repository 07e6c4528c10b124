"""Which audio stream to extract, from ``DemuxOptions.audio_stream``."""

from __future__ import annotations

from shared.errors import InputError
from shared.languages import same_language
from shared.schema import StreamInfo
from stages.demux.probe import describe_stream


def _listing(audio: list[StreamInfo]) -> str:
    return "; ".join(f"{n} = {describe_stream(s)}" for n, s in enumerate(audio))


def _first_default(candidates: list[StreamInfo]) -> StreamInfo:
    return next((s for s in candidates if s.default), candidates[0])


def _matches_language(code: str, stream: StreamInfo) -> bool:
    tagged = stream.language.lower()
    return bool(tagged) and (tagged == code or same_language(code, tagged))


def choose_audio_stream(streams: tuple[StreamInfo, ...] | list[StreamInfo], spec: str) -> tuple[int, StreamInfo]:
    """(position among audio streams, stream) for ``spec``.

    ``auto``: the stream with the default disposition, else the first;
    a number: that position among the audio streams (0 = first);
    anything else: a language code, ISO 639-1 or 639-2 (``en`` matches
    ``eng``, ``de`` matches ``ger`` and ``deu``), the default one if several match.
    """
    audio = [s for s in streams if s.kind == "audio"]
    if not audio:
        raise InputError("the input has no audio stream; subtitles need speech")
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        chosen = _first_default(audio)
    elif spec.isdigit():
        position = int(spec)
        if position >= len(audio):
            raise InputError(
                f"AUDIO_STREAM={spec} but the input has {len(audio)} audio stream(s): {_listing(audio)}",
                f"use an index from 0 to {len(audio) - 1} or a language code",
            )
        chosen = audio[position]
    else:
        matches = [s for s in audio if _matches_language(spec, s)]
        if not matches:
            raise InputError(
                f"no audio stream has language {spec!r}; audio streams: {_listing(audio)}",
                "set AUDIO_STREAM to one of those indexes or languages, or auto",
            )
        chosen = _first_default(matches)
    return audio.index(chosen), chosen
