"""Hard cuts with ffmpeg's ``scdet`` filter, read frame by frame.

scdet scores each frame against the one before it (mean absolute difference, percent
of full scale) and marks the frames whose score passes the threshold. Its marks are
printed by the ``metadata`` filter to stdout, one block per frame::

    frame:50   pts:25600   pts_time:2
    lavfi.scd.mafd=15.6
    lavfi.scd.score=15.625
    lavfi.scd.time=2

``pts_time`` of every frame drives progress; a block with ``lavfi.scd.time`` is a cut,
whose frame number is its time since the first frame's at the stream's rate. The first
frame's time, not the stream's probed start: ffmpeg shifts every stream by the file's
start (an MPEG-TS starts at 1.4 s) before the filters see it. :func:`parse_metadata` is
pure, so tests feed it recorded output.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from shared.ffmpeg import ffmpeg_stdout
from shared.progress import ProgressHook, no_progress
from stages.shots.video import VideoStream

DETECTOR = "ffmpeg scdet"
PROGRESS_EVERY_S = 5.0  # seconds of video between progress calls


@dataclass(frozen=True)
class Detection:
    cut_frames: tuple[int, ...]
    cut_scores: tuple[float, ...]
    frame_count: int


def detect_args(media: Path, stream: VideoStream, threshold_percent: float) -> list[str]:
    """ffmpeg's arguments (after the quiet ones: shared.ffmpeg.ffmpeg_command): decode only the
    chosen video stream, score every frame, print the marks."""
    graph = f"scdet=threshold={threshold_percent:g}:sc_pass=0,metadata=mode=print:file=-"
    return ["-i", str(media.absolute()),
            "-map", f"0:v:{stream.position}", "-an", "-sn", "-dn", "-vf", graph, "-f", "null", "-"]


def parse_metadata(lines: Iterable[str], stream: VideoStream, hook: ProgressHook = no_progress,
                   duration_s: float | None = None) -> Detection:
    """scdet's marks (see the module docstring) -> cut frame numbers, in order, without repeats."""
    rate = stream.frame_rate
    cuts: dict[int, float] = {}
    frames = 0
    pts_s = 0.0
    origin_s: float | None = None
    score = 0.0
    reported = 0.0
    for raw in lines:
        line = raw.strip()
        if line.startswith("frame:"):
            frames += 1
            score = 0.0
            for part in line.split():
                key, _, value = part.partition(":")
                if key == "pts_time":
                    try:
                        pts_s = float(value)
                    except ValueError:
                        pass
            if origin_s is None:
                origin_s = pts_s
            if pts_s - reported >= PROGRESS_EVERY_S:
                reported = pts_s
                hook("detecting", pts_s, duration_s)
        elif line.startswith("lavfi.scd.score="):
            score = float(line.partition("=")[2] or 0.0)
        elif line.startswith("lavfi.scd.time="):
            frame = round((pts_s - (origin_s or 0.0)) * rate.num / rate.den)
            if frame > 0:  # the first frame starts the first shot: no cut
                cuts.setdefault(frame, score)
    ordered = sorted(cuts)
    return Detection(tuple(ordered), tuple(cuts[f] for f in ordered), frames)


def detect(media: Path, stream: VideoStream, threshold_percent: float, duration_s: float | None,
           hook: ProgressHook = no_progress) -> Detection:
    """Run ffmpeg over the stream; StageFailed with ffmpeg's last error line when it fails."""
    with ffmpeg_stdout(detect_args(media, stream, threshold_percent),
                       f"ffmpeg scene detection on video stream #{stream.index} ({stream.codec})",
                       "check that this ffmpeg decodes the video codec (the images' ffmpeg: "
                       "docker/ffmpeg/configure-minimal.sh), or SKIP_STAGES=shots", text=True) as marks:
        found = parse_metadata(marks, stream, hook, duration_s)
    if duration_s:
        hook("detecting", duration_s, duration_s)
    return found
