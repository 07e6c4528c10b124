"""Options of the demux stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class DemuxOptions:
    """Audio extraction. ``audio_stream`` picks the audio track: ``auto`` takes
    the default (or first) audio stream, a number is the index among audio
    streams (0 = first), anything else is a language code (``eng``/``en``).
    The audio's format is not a setting: it is the graph's (``shared.graph.AUDIO_FORMAT``),
    which every reader checks."""

    dialogue: str = setting("auto", "AUDIO_DIALOGUE", "where the dialogue is taken from: auto (the centre channel of a 5.1/7.1 track when it carries speech, else the downmix), center, or downmix (docs/FILM.md)", ("auto", "center", "downmix"))
    audio_stream: str = setting("auto", "AUDIO_STREAM", "audio track: auto, an index among audio streams (0 = first), or a language code")
