"""Speech regions from per-frame speech probabilities: a pure function.

The hysteresis of the usual Silero post-processing, written here from its
description:

* speech starts at the first frame whose probability is >= ``threshold``;
* once in speech, it ends only when the probability stays below
  ``neg_threshold = max(threshold - 0.15, 0.01)`` for ``min_silence_duration_ms``
  (the region ends where that silence began); frames between the two
  thresholds neither start nor end speech;
* regions shorter than ``min_speech_duration_ms`` are dropped;
* a region that would be longer than ``max_speech_duration_s`` once padded is
  split at its longest pause (run of frames below ``threshold``; among the
  pauses that need no more pieces than necessary), again and again, or cut
  hard where it has no pause; each piece is trimmed to start on
  a frame >= ``threshold`` and end on one >= ``neg_threshold`` (dropped if
  it has none);
* each region is padded by ``speech_pad_ms`` on both sides, clamped to the
  audio, and where two padded regions would overlap the gap between them is
  split in two.

Everything is computed in integer milliseconds (a frame is exactly 32 ms), so
the regions written (rounded to ms) are exactly the regions computed: sorted,
non-overlapping (neighbours may touch), inside [0, duration], none longer
than the maximum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shared.errors import InputError
from shared.schema import Region

FRAME_MS = 32  # 512 samples at 16 kHz


@dataclass(frozen=True)
class VadParams:
    threshold: float = 0.5
    min_speech_duration_ms: int = 250
    min_silence_duration_ms: int = 500
    speech_pad_ms: int = 200
    max_speech_duration_s: float = 30.0

    @property
    def neg_threshold(self) -> float:
        return max(self.threshold - 0.15, 0.01)

    @classmethod
    def from_options(cls, options) -> VadParams:
        return cls(
            threshold=float(options.threshold),
            min_speech_duration_ms=int(options.min_speech_duration_ms),
            min_silence_duration_ms=int(options.min_silence_duration_ms),
            speech_pad_ms=int(options.speech_pad_ms),
            max_speech_duration_s=float(options.max_speech_duration_s),
        )

    def validate(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise InputError(f"VAD threshold must be in (0, 1], got {self.threshold}")
        for name in ("min_speech_duration_ms", "min_silence_duration_ms", "speech_pad_ms"):
            if getattr(self, name) < 0:
                raise InputError(f"VAD option {name} must be >= 0, got {getattr(self, name)}")
        if not (self.max_speech_duration_s * 1000 >= 1 and math.isfinite(self.max_speech_duration_s)):
            raise InputError(f"VAD option max_speech_duration_s must be at least 0.001, got {self.max_speech_duration_s}")


def hysteresis(probs: np.ndarray, params: VadParams) -> list[tuple[int, int]]:
    """Speech as frame ranges [start, end) by the two-threshold state machine."""
    threshold, neg = params.threshold, params.neg_threshold
    min_silence_frames = max(1, math.ceil(params.min_silence_duration_ms / FRAME_MS))
    is_speech = probs >= threshold
    is_silence = probs < neg
    found: list[tuple[int, int]] = []
    start = -1  # -1: not in speech
    silence_start = -1  # first frame of the current run below neg_threshold, -1: none
    for i in range(len(probs)):
        if start < 0:
            if is_speech[i]:
                start, silence_start = i, -1
            continue
        if is_silence[i]:
            if silence_start < 0:
                silence_start = i
            if i + 1 - silence_start >= min_silence_frames:
                found.append((start, silence_start))
                start, silence_start = -1, -1
        else:
            silence_start = -1
    if start >= 0:
        found.append((start, silence_start if silence_start >= 0 else len(probs)))
    return found


def _pauses(probs: np.ndarray, start: int, end: int, threshold: float) -> list[tuple[int, int]]:
    """Runs [a, b) of frames below ``threshold`` strictly inside [start, end)."""
    low = np.concatenate(([False], probs[start:end] < threshold, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(low))
    runs = [(start + int(a), start + int(b)) for a, b in zip(edges[::2], edges[1::2])]
    return [(a, b) for a, b in runs if a > start and b < end]


def _trim(probs: np.ndarray, start: int, end: int, params: VadParams) -> tuple[int, int]:
    """A piece of a split region, shaped like a region of the hysteresis: starting at a
    frame >= threshold and ending after a frame >= neg_threshold; empty when it has no speech."""
    while start < end and probs[start] < params.threshold:
        start += 1
    while end > start and probs[end - 1] < params.neg_threshold:
        end -= 1
    return start, end


def split_long(probs: np.ndarray, region: tuple[int, int], limit_frames: int, params: VadParams) -> list[tuple[int, int]]:
    """Split a frame range until no piece is longer than ``limit_frames``: at the
    longest pause (run of frames below threshold), else by a hard cut. Pieces
    without a frame >= threshold are dropped.

    Only pauses that keep the number of pieces as small as it can be are
    candidates (a long pause near one end would leave a side that needs more
    cuts than the region as a whole does); among those the longest wins, then
    the deepest (lowest mean probability), then the earliest."""

    def pieces_needed(length: int) -> int:
        return -(-length // limit_frames)

    pieces, todo = [], [region]
    while todo:
        start, end = _trim(probs, *todo.pop(), params)
        if end <= start:
            continue
        if end - start <= limit_frames:
            pieces.append((start, end))
            continue
        pauses = _pauses(probs, start, end, params.threshold)
        if pauses:
            a, b = min(pauses, key=lambda r: (pieces_needed(r[0] - start) + pieces_needed(end - r[1]),
                                               -(r[1] - r[0]), float(probs[r[0]:r[1]].mean()), r[0]))
            todo += [(b, end), (start, a)]
        else:
            todo += [(start + limit_frames, end), (start, start + limit_frames)]
    return sorted(pieces)


def speech_regions(probs: Sequence[float] | np.ndarray, duration_s: float, params: VadParams) -> list[Region]:
    """Speech regions in seconds from one probability per 32 ms frame of audio ``duration_s`` long."""
    params.validate()
    probs = np.asarray(probs, dtype=np.float32).ravel()
    duration_ms = max(0, math.floor(duration_s * 1000 + 1e-6))
    max_ms = math.floor(params.max_speech_duration_s * 1000 + 1e-6)
    # Padding must fit inside the maximum with at least one frame of speech.
    pad_ms = min(params.speech_pad_ms, max(0, (max_ms - FRAME_MS) // 2))
    limit_frames = max(1, (max_ms - 2 * pad_ms) // FRAME_MS)

    raw = [
        (s, e) for s, e in hysteresis(probs, params)
        if (e - s) * FRAME_MS >= params.min_speech_duration_ms
    ]
    frames: list[tuple[int, int]] = []
    for region in raw:
        frames += split_long(probs, region, limit_frames, params)

    # to milliseconds, clamped to the audio
    spans = []
    for s, e in frames:
        start, end = min(s * FRAME_MS, duration_ms), min(e * FRAME_MS, duration_ms)
        if end > start:
            spans.append([start, end])

    padded = [[s - pad_ms, e + pad_ms] for s, e in spans]
    for i in range(len(spans) - 1):
        gap = spans[i + 1][0] - spans[i][1]
        if gap < 2 * pad_ms:
            padded[i][1] = spans[i][1] + gap // 2
            padded[i + 1][0] = padded[i][1]
    regions = []
    for s, e in padded:
        s, e = max(0, s), min(duration_ms, e)
        e = min(e, s + max_ms)  # only bites when a single frame is longer than the maximum
        if e > s:
            regions.append(Region(s / 1000, e / 1000))
    return regions
