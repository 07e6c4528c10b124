"""The lyrics-detection stage: demux/audio.wav + asr/transcript.json -> lyrics-detection/lyrics.json.

Song regions (music with singing), each with a confidence (the mean
combined score inside it) and its audio and transcript scores, so that a
threshold can be chosen from evidence. No model: numpy and scipy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shared import schema
from shared.errors import InputError
from shared.log import get_logger
from shared.options.lyrics_detection import LyricsDetectionOptions
from shared.progress import ProgressHook, no_progress
from shared.stage import StageReport
from stages.lyrics_detection import features, score

log = get_logger("stages.lyrics_detection")


def check_options(options: LyricsDetectionOptions) -> None:
    problems = []
    if not 0 < options.threshold < 1:
        problems.append("LYRICS_THRESHOLD must be between 0 and 1")
    if options.min_duration_s < 0 or options.max_gap_s < 0:
        problems.append("LYRICS_MIN_DURATION_S and LYRICS_MAX_GAP_S cannot be negative")
    if not 0 <= options.text_weight <= 1:
        problems.append("LYRICS_TEXT_WEIGHT must be between 0 and 1")
    if problems:
        raise InputError("; ".join(problems))


def model_identity(options: LyricsDetectionOptions) -> dict[str, Any]:
    return {"method": "numpy/scipy features", "audio_terms": [list(t) for t in score.AUDIO_TERMS]}


def detect(wav: Path, transcript: schema.Transcript, options: LyricsDetectionOptions,
           hook: ProgressHook = no_progress) -> tuple[list[schema.LyricRegion], dict[str, Any]]:
    hook("analysing audio", 0, 3)
    frames, duration_s = features.frame_features(wav)
    hook("analysing audio", 1, 3)
    windows = features.window_features(frames, duration_s)
    audio = score.audio_scores(windows)
    text = score.text_scores(transcript.segments, windows.starts_s)
    hook("analysing audio", 2, 3)
    scored = score.timeline(windows, audio, text, options.text_weight, duration_s)
    found = score.regions(scored, options.threshold, options.min_duration_s, options.max_gap_s, duration_s)
    hook("analysing audio", 3, 3)
    regions = [schema.LyricRegion(a, b, c, au, tx) for a, b, c, au, tx in found]
    stats = {"windows": int(len(windows.starts_s)), "duration_s": round(duration_s, 3),
             "windows_with_text": int(np.sum(~np.isnan(text)))}
    return regions, stats


def run(inputs: dict[str, Path], outputs: dict[str, Path], options: LyricsDetectionOptions,
        hook: ProgressHook = no_progress) -> StageReport:
    check_options(options)
    transcript = schema.load(inputs["transcript"], schema.Transcript)
    regions, stats = detect(inputs["audio"], transcript, options, hook)
    producer = schema.stamp("lyrics-detection", options, method=model_identity(options))
    schema.write(outputs["lyrics"], schema.LyricRegions(tuple(regions), stats["duration_s"], producer))
    total = sum(r.end_s - r.start_s for r in regions)
    log.info("%d song region(s), %.1f s of %.1f s", len(regions), total, stats["duration_s"])
    return StageReport(
        metrics={"regions": len(regions), "lyrics_s": round(total, 3), **stats},
        notes=[f"{len(regions)} song region(s) found ({total:.0f} s): their cues are marked as lyrics"] if regions else [],
    )
