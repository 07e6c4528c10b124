"""From features to song regions: an audio score per window, a transcript
score per window, their weighted mean, smoothing, and runs above a threshold.

Audio score: a logistic function of four window features, each centred at
the value that separates talk from song in the synthetic films of
bench/eval_lyrics.py and scaled by its spread there:

* few quiet frames (``low_energy`` well under 0.2) counts most: talk pauses,
  a song does not (this is also what keeps dialogue over a film score out);
* a beat (onset periodicity at a musical tempo);
* a tonal spectrum (low flatness);
* pitch nearly throughout (``voiced``).

Transcript score, per segment: music symbols or [music]/(singing) tags
(1.0); a line that comes back within ``REPEAT_WINDOW_S`` (0.8); a
repeated three-word run inside one segment (0.5); a short line without
sentence punctuation (0.35); Whisper unsure of the words (mean log
probability under -1) adds 0.2. A window takes the overlap-weighted mean of
its segments' scores, which moves the audio score's log-odds by
``TEXT_GAIN * text_weight * (score - TEXT_NEUTRAL)``: up for sung-looking
lines, a little down for full sentences; without transcript text there the
audio decides alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shared.schema import Segment
from stages.lyrics_detection.features import HOP_S, WINDOW_S, Windows

# (feature, centre, scale, weight): z += weight * (value - centre) / scale
AUDIO_TERMS = (
    ("low_energy", 0.18, -0.06, 2.0),
    ("beat", 0.25, 0.15, 0.8),
    ("flatness", 0.018, -0.008, 0.6),
    ("voiced", 0.80, 0.08, 0.4),
)
AUDIO_BIAS = 0.0
SMOOTH_S = 4.5  # running median over the timeline of scores
TEXT_NEUTRAL = 0.3  # a transcript score that says nothing either way
TEXT_GAIN = 6.0  # log-odds per unit of transcript score, at LYRICS_TEXT_WEIGHT=1
REPEAT_WINDOW_S = 120.0
MUSIC_MARKS = re.compile(r"[♪♫♬🎵🎶]|[\[(](music|singing|song|sings|lyrics)[^\])]*[\])]", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.?!…。？！]['\"”’)]*\s*$")


@dataclass(frozen=True)
class Scored:
    """Per-hop timeline: ``times_s[k]`` is the start of hop k."""

    times_s: np.ndarray
    audio: np.ndarray
    text: np.ndarray  # nan where no transcript text
    combined: np.ndarray


def audio_scores(windows: Windows) -> np.ndarray:
    z = np.full(len(windows.starts_s), AUDIO_BIAS, dtype=np.float64)
    for name, centre, scale, weight in AUDIO_TERMS:
        z += weight * (getattr(windows, name).astype(np.float64) - centre) / scale
    return 1.0 / (1.0 + np.exp(-z))


def _normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def segment_scores(segments: Sequence[Segment]) -> list[float]:
    """How much each transcript segment reads like a sung line (0-1)."""
    lines = [_normal(s.text) for s in segments]
    out = []
    for k, seg in enumerate(segments):
        text = seg.text.strip()
        words = lines[k].split()
        score = 0.0
        if MUSIC_MARKS.search(text):
            score = 1.0
        elif words:
            if len(words) >= 3 and any(lines[j] == lines[k] and abs(segments[j].start_s - seg.start_s) <= REPEAT_WINDOW_S
                                       for j in range(len(segments)) if j != k):
                score = 0.8
            grams = [tuple(words[i:i + 3]) for i in range(len(words) - 2)]
            if len(grams) != len(set(grams)):
                score = max(score, 0.5)
            if len(words) <= 8 and not SENTENCE_END.search(text):
                score = max(score, 0.35)
            if seg.avg_logprob < -1.0:
                score = min(1.0, score + 0.2)
        out.append(score)
    return out


def text_scores(segments: Sequence[Segment], starts_s: np.ndarray) -> np.ndarray:
    """Per window: the overlap-weighted mean of its segments' scores, nan without any."""
    per_segment = segment_scores(segments)
    out = np.full(len(starts_s), np.nan)
    if not segments:
        return out
    seg_starts = np.array([s.start_s for s in segments])
    seg_ends = np.array([s.end_s for s in segments])
    values = np.array(per_segment)
    for k, start in enumerate(starts_s):
        end = start + WINDOW_S
        overlap = np.clip(np.minimum(seg_ends, end) - np.maximum(seg_starts, start), 0.0, None)
        if overlap.sum() >= 0.25 * WINDOW_S:
            out[k] = float((overlap * values).sum() / overlap.sum())
    return out


def timeline(windows: Windows, audio: np.ndarray, text: np.ndarray, text_weight: float,
             duration_s: float) -> Scored:
    """Window scores spread onto a HOP_S grid (each point: the mean of the windows covering it), smoothed."""
    from scipy.ndimage import median_filter

    n = max(1, int(math.ceil(duration_s / HOP_S)))
    sums = {k: np.zeros(n) for k in ("audio", "text", "text_n", "n")}
    per_window = int(round(WINDOW_S / HOP_S))
    for k, start in enumerate(windows.starts_s):
        a = int(round(start / HOP_S))
        b = min(n, a + per_window)
        sums["audio"][a:b] += audio[k]
        sums["n"][a:b] += 1
        if not math.isnan(text[k]):
            sums["text"][a:b] += text[k]
            sums["text_n"][a:b] += 1
    covered = sums["n"] > 0
    audio_t = np.where(covered, sums["audio"] / np.maximum(sums["n"], 1), 0.0)
    text_t = np.where(sums["text_n"] > 0, sums["text"] / np.maximum(sums["text_n"], 1), np.nan)
    # the transcript moves the audio's log-odds: up for sung-looking lines, a little down for sentences
    logit = np.log(np.clip(audio_t, 1e-4, 1 - 1e-4) / np.clip(1 - audio_t, 1e-4, 1.0))
    shift = TEXT_GAIN * text_weight * (np.nan_to_num(text_t, nan=TEXT_NEUTRAL) - TEXT_NEUTRAL)
    combined = 1.0 / (1.0 + np.exp(-(logit + shift)))
    size = max(1, int(round(SMOOTH_S / HOP_S)) | 1)
    combined = median_filter(combined, size=size, mode="nearest")
    return Scored(np.arange(n) * HOP_S, audio_t, text_t, combined)


def regions(scored: Scored, threshold: float, min_duration_s: float, max_gap_s: float,
            duration_s: float) -> list[tuple[float, float, float, float, float | None]]:
    """(start, end, confidence, audio score, text score) of each run above ``threshold``."""
    above = scored.combined >= threshold
    runs, start = [], None
    for k, on in enumerate(above):
        if on and start is None:
            start = k
        if not on and start is not None:
            runs.append([start, k])
            start = None
    if start is not None:
        runs.append([start, len(above)])
    merged: list[list[int]] = []
    for run in runs:
        if merged and (run[0] - merged[-1][1]) * HOP_S < max_gap_s:
            merged[-1][1] = run[1]
        else:
            merged.append(run)
    out = []
    for a, b in merged:
        start_s, end_s = a * HOP_S, min(duration_s, b * HOP_S)
        if end_s - start_s < min_duration_s:
            continue
        text = scored.text[a:b]
        text_mean = float(np.nanmean(text)) if np.any(~np.isnan(text)) else None
        out.append((start_s, end_s, float(scored.combined[a:b].mean()), float(scored.audio[a:b].mean()), text_mean))
    return out
