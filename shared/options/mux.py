"""Options of the mux stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class MuxOptions:
    """Soft subtitle tracks: mov_text in MP4/MOV, SRT (or ASS) in MKV; video
    and audio are copied, never re-encoded."""

    mkv_subtitle_format: str = setting("srt", "MUX_MKV_SUBTITLE_FORMAT", "track format in MKV: srt or ass", ("srt", "ass"))
