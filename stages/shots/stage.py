"""shots: the video's hard cuts, frame-accurate at its frame rate, in ``shots/shots.json``.

Audio-only input (no video stream, or only cover art) is not an error: the record
says so (no frame rate, no cuts) and the subtitles stage times cues in milliseconds.

Why ffmpeg's scdet rather than PySceneDetect: it runs inside the ffmpeg every image
already has (no OpenCV, no Python decoding), scores every decoded frame, so a cut is
found at its exact frame, and its score (mean absolute difference) separates hard
cuts from motion with one threshold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared import schema
from shared.ffmpeg import ffmpeg_version, ffprobe
from shared.log import get_logger
from shared.options.shots import ShotsOptions
from shared.progress import ProgressHook, no_progress
from shared.stage import StageReport
from stages.shots.detect import DETECTOR, detect
from stages.shots.video import choose, video_streams

log = get_logger("stages.shots")
PROBE_TIMEOUT_S = 300
AUDIO_ONLY_NOTE = "no video stream: no shot changes (cues are timed in milliseconds)"


def model_identity(options: ShotsOptions) -> dict[str, Any]:
    """No model: the ffmpeg build that decodes and scores the frames."""
    return {"tool": "ffmpeg", "version": ffmpeg_version()}


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: ShotsOptions,
        hook: ProgressHook = no_progress) -> StageReport:
    media = inputs["media"]
    info = schema.load(inputs["media_info"], schema.MediaInfo)
    returncode, data, reason = ffprobe(media, "streams", timeout_s=PROBE_TIMEOUT_S)
    streams = video_streams(data.get("streams") or []) if returncode == 0 else []
    stream = choose(streams, options.video_stream)
    producer = schema.stamp("shots", options, model_identity(options))
    if stream is None:
        schema.write(outputs["shots"], schema.ShotChanges(None, None, 0, (), (), DETECTOR, options.threshold_percent,
                                                          producer))
        log.info("%s: %s", media.name, AUDIO_ONLY_NOTE)
        return StageReport(model=model_identity(options), metrics={"video": False, "cuts": 0}, notes=[AUDIO_ONLY_NOTE])
    log.info("detecting cuts in video stream #%d (%s, %s fps)", stream.index, stream.codec, stream.frame_rate)
    found = detect(media, stream, options.threshold_percent, info.duration_s, hook)
    record = schema.ShotChanges(stream.frame_rate, stream.index, found.frame_count, found.cut_frames, found.cut_scores,
                                DETECTOR, options.threshold_percent, producer)
    schema.write(outputs["shots"], record)
    log.info("%d frames, %d cuts", found.frame_count, len(found.cut_frames))
    return StageReport(
        model=model_identity(options),
        metrics={"video": True, "video_stream_index": stream.index, "codec": stream.codec,
                 "frame_rate": str(stream.frame_rate), "frames": found.frame_count, "cuts": len(found.cut_frames)},
    )
