"""Options of the shots stage (read by that stage; resolved by shared.stage)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.options import setting


@dataclass(frozen=True)
class ShotsOptions:
    """Shot-change (hard cut) detection with ffmpeg's ``scdet`` filter. ``threshold_percent``
    is scdet's score, the mean absolute difference between a frame and the one before it in
    percent of full scale, above which a frame starts a new shot: 10 (scdet's default) finds
    hard cuts between shots and stays below camera and subject motion. ``video_stream`` picks
    the video: ``auto`` takes the default (or first) video stream that is not cover art; a
    number is the index among video streams."""

    threshold_percent: float = setting(10.0, "SHOTS_THRESHOLD_PERCENT", "scene-change score (0-100) above which a frame starts a new shot")
    video_stream: str = setting("auto", "SHOTS_VIDEO_STREAM", "video track: auto, or an index among video streams (0 = first)")
