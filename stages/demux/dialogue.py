"""Which channels the dialogue is taken from (``AUDIO_DIALOGUE``).

In a film mix the dialogue lives in the front-centre channel; music and
effects live in the fronts, the surrounds and the LFE. Taking the centre
alone gives the recogniser the dialogue without the score, where even the
centre-weighted downmix (stages/demux/decode.py) keeps the score 6 dB under it.

* ``downmix``: today's mono fold (centre-weighted where there is a centre);
* ``center``: the centre channel alone; refused when the layout has none;
* ``auto``: the centre alone when the layout has one *and* it carries speech,
  else the downmix. Some releases leave the centre silent or put the whole
  stereo mix in it (upmixes, music-only tracks); those fall back.

"Carries speech" is measured, not assumed: the centre's first
``ANALYSED_S`` seconds are decoded band-passed to the speech band
(300-3400 Hz) at 8 kHz, and cut into 1 s windows of 10 ms frames. A window
is speech-like when it is loud enough (``MIN_LEVEL_DBFS``) and its frames
span ``MIN_RANGE_DB`` or more: speech stops between syllables and words, a
held chord or a hiss does not. The centre carries speech when at least
``MIN_SPEECH_WINDOWS`` of its loud windows are speech-like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.errors import InputError
from shared.ffmpeg import ffmpeg_stdout
from stages.demux.decode import CENTRE, downmix_filter, layout_channels

ANALYSED_S = 1200.0  # the first 20 minutes decide
RATE_HZ = 8000
FRAME_S = 0.01
WINDOW_S = 1.0
MIN_LEVEL_DBFS = -50.0
MIN_RANGE_DB = 15.0
MIN_SPEECH_WINDOWS = 0.3


@dataclass(frozen=True)
class Choice:
    pan: str | None  # the ffmpeg pan filter, or None for ffmpeg's own -ac 1
    source: str  # "center" or "downmix"
    reason: str


def centre_index(layout: str, channels: int) -> int | None:
    """The centre channel's position in a layout of three channels or more (a mono track's one
    channel is named FC too, but there is nothing to choose from there)."""
    names = layout_channels(layout, channels)
    return names.index(CENTRE) if channels >= 3 and names and CENTRE in names else None


def speech_windows(levels_db: np.ndarray, frames_per_window: int) -> tuple[int, int]:
    """(loud windows, speech-like windows) of a sequence of 10 ms frame levels in dBFS."""
    n = len(levels_db) // frames_per_window
    if n == 0:
        return 0, 0
    windows = levels_db[:n * frames_per_window].reshape(n, frames_per_window)
    top = np.percentile(windows, 95, axis=1)
    loud = top > MIN_LEVEL_DBFS
    speechlike = loud & (top - np.percentile(windows, 10, axis=1) >= MIN_RANGE_DB)
    return int(loud.sum()), int(speechlike.sum())


def centre_analysis_args(media: Path, stream_index: int, channel: int, analysed_s: float = ANALYSED_S) -> list[str]:
    """ffmpeg arguments (after the global ones) writing one channel's speech band as raw 16-bit PCM to stdout
    (the images' minimal FFmpeg enables the s16le muxer for it: tests/containers/test_ffmpeg.py)."""
    return ["-t", f"{analysed_s:.3f}", "-i", str(media.absolute()),
            "-map", f"0:{stream_index}", "-af", f"pan=mono|c0=c{channel},highpass=f=300,lowpass=f=3400",
            "-ar", str(RATE_HZ), "-f", "s16le", "-"]


def centre_levels_db(media: Path, stream_index: int, channel: int, analysed_s: float = ANALYSED_S) -> np.ndarray:
    """10 ms frame levels (dBFS) of one channel's speech band, streamed from ffmpeg."""
    frame = int(FRAME_S * RATE_HZ)
    levels: list[np.ndarray] = []
    with ffmpeg_stdout(centre_analysis_args(media, stream_index, channel, analysed_s),
                       f"ffmpeg reading the centre channel of stream #{stream_index}", "check the input file") as out:
        while chunk := out.read(frame * 2 * 1000):
            samples = np.frombuffer(chunk[:len(chunk) // (2 * frame) * 2 * frame], dtype="<i2").astype(np.float32) / 32768
            rms = np.sqrt(np.mean(samples.reshape(-1, frame) ** 2, axis=1))
            levels.append(20 * np.log10(np.maximum(rms, 1e-6)))
    return np.concatenate(levels) if levels else np.zeros(0, np.float32)


def choose(mode: str, layout: str, channels: int, centre_speech: Callable[[int], tuple[int, int]]) -> Choice:
    """The dialogue source for ``mode`` (auto, center, downmix); ``centre_speech(channel)`` gives
    (loud windows, speech-like windows) of that channel, asked only in ``auto`` with a centre."""
    mode = mode.strip().lower()
    index = centre_index(layout, channels)
    downmix = downmix_filter(layout, channels)
    if mode == "downmix":
        return Choice(downmix, "downmix", "AUDIO_DIALOGUE=downmix")
    if mode == "center":
        if index is None:
            raise InputError(f"AUDIO_DIALOGUE=center but the audio's layout ({layout or 'unknown'}, {channels} channel(s)) "
                             "has no centre channel", "use AUDIO_DIALOGUE=auto or downmix")
        return Choice(f"pan=mono|c0=c{index}", "center", "AUDIO_DIALOGUE=center")
    if mode != "auto":
        raise InputError(f"AUDIO_DIALOGUE={mode}: use auto, center or downmix")
    if index is None:
        return Choice(downmix, "downmix", f"no centre channel in {layout or 'this layout'}")
    loud, speechlike = centre_speech(index)
    share = speechlike / loud if loud else 0.0
    if loud and share >= MIN_SPEECH_WINDOWS:
        return Choice(f"pan=mono|c0=c{index}", "center",
                      f"the centre carries speech ({speechlike} of {loud} loud 1 s windows speech-like)")
    return Choice(downmix, "downmix", f"the centre does not carry speech ({speechlike} of {loud} loud 1 s windows "
                                      f"speech-like, {MIN_SPEECH_WINDOWS:.0%} needed)")
