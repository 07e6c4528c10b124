"""Frame and window features that tell a song from talk, in numpy and scipy.

Frames are 40 ms, every 10 ms. Per frame: loudness (RMS), harmonicity and
pitch (the highest normalised autocorrelation peak between 70 and 800 Hz
and its lag), spectral flatness (geometric over arithmetic mean of the
power spectrum, 100-4000 Hz) and spectral flux (positive change of the log
spectrum: onsets). The audio is read in blocks, so an entire film never sits
in memory.

Per analysis window (``WINDOW_S`` long, every ``HOP_S``):

* ``low_energy``: share of frames quieter than half the window's mean RMS.
  Talk pauses between phrases and dips between syllables; music does not.
* ``voiced``: share of frames with a clear pitch (harmonicity above
  ``VOICED_MIN``). Singing and accompaniment are pitched nearly throughout.
* ``beat``: how periodic the onsets are at a musical tempo (autocorrelation
  of the flux, 40-200 beats per minute, over ``BEAT_WINDOW_S``).
* ``flatness``: mean spectral flatness (tonal music is low).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.audio import SAMPLE_RATE_HZ, AudioFile

HOP = 160  # 10 ms
FRAME = 640  # 40 ms
FFT = 1024
MIN_F0_HZ, MAX_F0_HZ = 70.0, 800.0
VOICED_MIN = 0.45  # normalised autocorrelation peak above which a frame has a pitch
SILENCE_DBFS = -55.0  # frames quieter than this are silence: neither voiced nor counted for flatness
WINDOW_S = 2.0
HOP_S = 0.5
BEAT_WINDOW_S = 6.0
BLOCK_S = 60.0


@dataclass(frozen=True)
class Frames:
    """Per-frame features; frame k is centred at ``k * HOP / SAMPLE_RATE_HZ`` seconds."""

    rms: np.ndarray
    harmonicity: np.ndarray
    f0_hz: np.ndarray  # 0 where unvoiced
    flatness: np.ndarray
    flux: np.ndarray

    @property
    def count(self) -> int:
        return len(self.rms)


def _frame_block(x: np.ndarray) -> tuple[np.ndarray, ...]:
    """Features of every complete frame of ``x`` (frames start every HOP samples)."""
    n = 1 + (len(x) - FRAME) // HOP if len(x) >= FRAME else 0
    if n <= 0:
        empty = np.zeros(0, dtype=np.float32)
        return empty, empty, empty, empty, np.zeros((0, FFT // 2 + 1), dtype=np.float32)
    idx = np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]
    frames = x[idx].astype(np.float32)
    frames = frames - frames.mean(axis=1, keepdims=True)
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    window = np.hanning(FRAME).astype(np.float32)
    spec = np.fft.rfft(frames * window, n=FFT, axis=1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    # autocorrelation (Wiener-Khinchin), corrected for the window's own taper
    ac = np.fft.irfft(power, n=FFT, axis=1)[:, :FRAME]
    win_ac = np.correlate(window, window, "full")[FRAME - 1:]
    ac = ac / np.maximum(win_ac[None, :] / win_ac[0], 1e-3)
    ac = ac / np.maximum(ac[:, :1], 1e-12)
    lo, hi = int(SAMPLE_RATE_HZ / MAX_F0_HZ), int(SAMPLE_RATE_HZ / MIN_F0_HZ)
    lags = ac[:, lo:hi]
    best = np.argmax(lags, axis=1)
    harmonicity = lags[np.arange(n), best]
    f0 = SAMPLE_RATE_HZ / (best + lo)
    freqs = np.fft.rfftfreq(FFT, 1.0 / SAMPLE_RATE_HZ)
    band = (freqs >= 100) & (freqs <= 4000)
    p = power[:, band] + 1e-10
    flatness = np.exp(np.mean(np.log(p), axis=1)) / np.mean(p, axis=1)
    logmag = np.log1p(np.sqrt(power) * 10.0)
    return rms, harmonicity.astype(np.float32), f0.astype(np.float32), flatness.astype(np.float32), logmag


def frame_features(wav: Path) -> tuple[Frames, float]:
    """Frame features of the demuxed audio, and its duration in seconds (StageFailed unless
    the file is in the graph's audio format)."""
    rms, harm, f0, flat, flux = [], [], [], [], []
    previous_logmag = None
    with AudioFile(wav) as f:
        duration = f.duration_s
        block = int(BLOCK_S * SAMPLE_RATE_HZ)  # a multiple of HOP
        start = 0
        while start < f.frames:
            x = f.read(start, start + block + FRAME - HOP)
            if len(x) < FRAME:
                break
            r, h, p, fl, logmag = _frame_block(x)
            take = min(len(r), block // HOP)
            r, h, p, fl, logmag = r[:take], h[:take], p[:take], fl[:take], logmag[:take]
            stacked = logmag if previous_logmag is None else np.vstack([previous_logmag[None, :], logmag])
            diff = np.maximum(np.diff(stacked, axis=0), 0.0).sum(axis=1)
            fx = np.concatenate([[0.0], diff]) if previous_logmag is None else diff
            previous_logmag = logmag[-1]
            rms.append(r), harm.append(h), f0.append(p), flat.append(fl), flux.append(fx.astype(np.float32))
            start += block
    if not rms:
        z = np.zeros(0, dtype=np.float32)
        return Frames(z, z, z, z, z), duration
    rms_a = np.concatenate(rms)
    silent = 20 * np.log10(np.maximum(rms_a, 1e-9)) < SILENCE_DBFS
    harm_a = np.where(silent, 0.0, np.concatenate(harm))
    f0_a = np.where(harm_a >= VOICED_MIN, np.concatenate(f0), 0.0)
    return Frames(rms_a, harm_a, f0_a, np.where(silent, 1.0, np.concatenate(flat)), np.concatenate(flux)), duration


@dataclass(frozen=True)
class Windows:
    """Window features; window k covers [starts_s[k], starts_s[k] + WINDOW_S)."""

    starts_s: np.ndarray
    low_energy: np.ndarray
    voiced: np.ndarray
    beat: np.ndarray
    flatness: np.ndarray
    loudness_dbfs: np.ndarray


def _beat_strength(flux: np.ndarray) -> float:
    """Peak of the onset autocorrelation at 40-200 BPM over its mean there, 0 for none."""
    if len(flux) < 2 * int(60 / 40 * SAMPLE_RATE_HZ / HOP):
        return 0.0
    x = flux - flux.mean()
    if not np.any(x):
        return 0.0
    n = len(x)
    ac = np.fft.irfft(np.abs(np.fft.rfft(x, n=2 * n)) ** 2)[:n]
    ac = ac / (ac[0] + 1e-12)
    lo, hi = int(60 / 200 * SAMPLE_RATE_HZ / HOP), int(60 / 40 * SAMPLE_RATE_HZ / HOP)
    band = ac[lo:hi]
    return float(max(0.0, band.max() - max(0.0, np.median(band))))


def window_features(frames: Frames, duration_s: float) -> Windows:
    per_s = SAMPLE_RATE_HZ / HOP
    width = int(WINDOW_S * per_s)
    beat_half = int(BEAT_WINDOW_S * per_s / 2)
    starts = np.arange(0.0, max(0.0, duration_s - WINDOW_S) + 1e-9, HOP_S) if duration_s >= WINDOW_S else np.zeros(0)
    cols: dict[str, list[float]] = {k: [] for k in ("low_energy", "voiced", "beat", "flatness", "loud")}
    voiced_all = frames.f0_hz > 0
    for s in starts:
        a = int(s * per_s)
        b = min(frames.count, a + width)
        rms = frames.rms[a:b]
        if b - a < 10:
            for k in cols:
                cols[k].append(0.0)
            continue
        mean = float(rms.mean())
        cols["low_energy"].append(float(np.mean(rms < 0.5 * mean)) if mean > 0 else 1.0)
        voiced = voiced_all[a:b]
        cols["voiced"].append(float(voiced.mean()))
        c = (a + b) // 2
        cols["beat"].append(_beat_strength(frames.flux[max(0, c - beat_half):c + beat_half]))
        loud = rms > 10 ** (SILENCE_DBFS / 20)
        cols["flatness"].append(float(frames.flatness[a:b][loud].mean()) if loud.any() else 1.0)
        cols["loud"].append(float(20 * np.log10(max(mean, 1e-9))))
    arr = {k: np.asarray(v, dtype=np.float32) for k, v in cols.items()}
    return Windows(starts.astype(np.float32), arr["low_energy"], arr["voiced"], arr["beat"], arr["flatness"],
                   arr["loud"])
