"""ffprobe of the muxed result (ffmpeg itself runs through shared.ffmpeg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.errors import StageFailed
from shared.ffmpeg import ffprobe


def probe_streams(path: Path) -> list[dict[str, Any]]:
    """ffprobe's streams of ``path`` (codec_type, codec_name, tags, ...)."""
    returncode, data, reason = ffprobe(path, "streams")
    if returncode != 0:
        raise StageFailed(f"ffmpeg wrote {path.name} but ffprobe cannot read it: {reason or returncode}")
    return list(data.get("streams") or [])
