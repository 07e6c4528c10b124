"""Which video stream to analyse and at what frame rate, from ffprobe's streams.

Cover art (an MP3's or M4A's picture, ``disposition.attached_pic``) is a video
stream of one frame: never a film. The frame rate is the stream's average rate
when ffprobe states one, else its base rate (``r_frame_rate``), as a rational.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from shared.errors import InputError
from shared.schema import FrameRate

MAX_FPS = 1000  # a rate above this is a container's time base, not frames


@dataclass(frozen=True)
class VideoStream:
    index: int  # ffprobe stream index
    position: int  # among the file's video streams (what -map 0:v:<position> takes)
    codec: str
    frame_rate: FrameRate
    start_s: float  # the stream's start as probed (the file's start shifts it before filters: see detect.py)
    frame_count: int  # as the container states it; 0 when unknown


def parse_rate(value: Any) -> FrameRate | None:
    """``"24000/1001"`` -> FrameRate(24000, 1001); None for ``0/0``, absent or absurd rates."""
    try:
        rate = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None
    if rate <= 0 or rate > MAX_FPS:
        return None
    return FrameRate(rate.numerator, rate.denominator)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def video_streams(streams: list[dict[str, Any]]) -> list[VideoStream]:
    """The film's video streams (cover art left out), in file order."""
    out: list[VideoStream] = []
    position = -1
    for raw in streams:
        if raw.get("codec_type") != "video":
            continue
        position += 1
        if (raw.get("disposition") or {}).get("attached_pic"):
            continue
        rate = parse_rate(raw.get("avg_frame_rate")) or parse_rate(raw.get("r_frame_rate"))
        if rate is None:
            continue
        frames = raw.get("nb_frames")
        out.append(VideoStream(int(raw.get("index", 0)), position, str(raw.get("codec_name") or ""), rate,
                               _float(raw.get("start_time")), int(frames) if str(frames or "").isdigit() else 0))
    return out


def choose(streams: list[VideoStream], wanted: str) -> VideoStream | None:
    """``auto``: the first video stream; a number: that one among them. None without video."""
    wanted = wanted.strip().lower()
    if not streams:
        return None
    if wanted in ("", "auto"):
        return streams[0]
    if wanted.isdigit() and int(wanted) < len(streams):
        return streams[int(wanted)]
    raise InputError(f"no video stream {wanted!r}: the file has {len(streams)} (0-{len(streams) - 1})",
                     "set SHOTS_VIDEO_STREAM to auto or to one of those indexes")
