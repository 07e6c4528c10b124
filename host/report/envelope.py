"""The audio's energy envelope for the report's timeline, with the standard library only.

demux writes ``demux/audio.wav`` as 16-bit PCM (``graph.AUDIO_FORMAT``), which
``wave`` reads. The file is cut into at most ``points`` equal buckets; each
bucket gives its peak and its RMS, both taken from at most ``BUCKET_SAMPLES``
samples spread evenly over the bucket: exact for a clip (a bucket of a minute
of audio holds fewer), an estimate for a film (every sample is Python work: a
two-hour film read in full takes about 18 s, its 4000 x 1024 samples about 2 s,
within a few percent of full scale of the exact RMS on noise). Both are on a
0..1000 integer scale of full scale, so the report stores a few kilobytes,
never the audio. No numpy: the container executor runs on the host's plain
python3 (host/containers).
"""

from __future__ import annotations

import array
import math
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

BUCKET_SAMPLES = 1024  # samples per bucket the peak and RMS are taken from
SCALE = 1000  # full scale on the stored integer scale
FULL_SCALE = 32768.0  # 16-bit PCM


@dataclass(frozen=True)
class Envelope:
    """``peak[i]`` and ``rms[i]`` (0..SCALE) of bucket ``i``, each ``bucket_s`` long."""

    bucket_s: float
    duration_s: float
    peak: tuple[int, ...]
    rms: tuple[int, ...]

    def to_json(self) -> dict[str, object]:
        return {"bucket_s": round(self.bucket_s, 6), "duration_s": round(self.duration_s, 3),
                "peak": list(self.peak), "rms": list(self.rms)}


class EnvelopeError(ValueError):
    """The file is not audio this module reads (not a WAV, or not 16-bit PCM)."""


def envelope(path: Path, points: int = 4000, min_bucket_s: float = 0.01) -> Envelope:
    """The envelope of the WAV at ``path`` in at most ``points`` buckets of at least ``min_bucket_s``.
    Raises EnvelopeError (or OSError) for a file that is not 16-bit PCM WAV."""
    try:
        reader = wave.open(str(path), "rb")
    except (wave.Error, EOFError) as err:
        raise EnvelopeError(f"{path} is not a PCM WAV file ({err}): rerun demux") from None
    with reader:
        width, channels, rate, frames = (reader.getsampwidth(), reader.getnchannels(), reader.getframerate(),
                                         reader.getnframes())
        if width != 2:
            raise EnvelopeError(f"{path} has {8 * width}-bit samples, not 16-bit PCM: rerun demux")
        if frames == 0 or rate <= 0:
            return Envelope(0.0, 0.0, (), ())
        per_bucket = max(1, math.ceil(frames / max(1, points)), round(min_bucket_s * rate))
        peaks: list[int] = []
        rms: list[int] = []
        while True:
            data = reader.readframes(per_bucket)
            if not data:
                break
            samples = array.array("h")
            samples.frombytes(data[: len(data) // 2 * 2])
            if sys.byteorder == "big":
                samples.byteswap()  # WAV is little-endian
            if channels > 1:
                samples = samples[::channels]  # the first channel: the job's audio is mono anyway
            if not samples:
                break
            chosen = samples[:: max(1, len(samples) // BUCKET_SAMPLES)]
            peak = max(max(chosen), -min(chosen))
            mean_square = sum(s * s for s in chosen) / len(chosen)
            peaks.append(min(SCALE, round(SCALE * peak / FULL_SCALE)))
            rms.append(min(SCALE, round(SCALE * math.sqrt(mean_square) / FULL_SCALE)))
    return Envelope(per_bucket / rate, frames / rate, tuple(peaks), tuple(rms))
