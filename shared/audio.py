"""The job's audio (demux's ``audio.wav``), read the one way.

Its format is one fact of the stage graph (``graph.AUDIO_FORMAT``, on the
``audio`` artifact): demux writes it, and every stage that reads the audio
opens it here, which checks it. A file that cannot be read, or has another
sample rate or channel count, is a :class:`StageFailed` whose one line says
what was found and to rerun demux. Samples come as float32, mono; times
become sample positions at the graph's rate. soundfile and numpy are imported
when a file is opened, not with this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.errors import StageFailed
from shared.graph import AUDIO_FORMAT

__all__ = ["AUDIO_FORMAT", "SAMPLE_RATE_HZ", "AudioFile", "duration_s", "read_all", "read_segment"]

SAMPLE_RATE_HZ = AUDIO_FORMAT.sample_rate_hz
REMEDY = "rerun demux"


def _unreadable(path: Path, err: Exception) -> StageFailed:
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return StageFailed(f"cannot read audio {path}: {reason}", REMEDY)


class AudioFile:
    """An open WAV in the graph's audio format: its length, and samples read by position.

    Use as a context manager; positions are sample indices, clipped to the file."""

    def __init__(self, path: Path | str):
        import soundfile

        self.path = Path(path)
        try:
            self._file = soundfile.SoundFile(str(path))
        except (RuntimeError, OSError) as err:  # soundfile's LibsndfileError is a RuntimeError
            raise _unreadable(self.path, err) from None
        rate, channels = self._file.samplerate, self._file.channels
        if (rate, channels) != (AUDIO_FORMAT.sample_rate_hz, AUDIO_FORMAT.channels):
            self._file.close()
            raise StageFailed(f"{path} is not {AUDIO_FORMAT.describe()} (got {rate} Hz, {channels} channels)", REMEDY)
        self.frames = int(self._file.frames)

    def __enter__(self) -> AudioFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    @property
    def sample_rate_hz(self) -> int:
        return AUDIO_FORMAT.sample_rate_hz

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate_hz

    def sample(self, time_s: float) -> int:
        """The sample nearest ``time_s`` (not clipped)."""
        return int(round(time_s * self.sample_rate_hz))

    def read(self, start: int = 0, stop: int | None = None, out=None):
        """Samples ``[start, stop)`` (clipped to the file; ``stop`` None: to its end), float32.
        ``out``: an array to read into; the part filled is returned."""
        import numpy as np

        start = max(0, start)
        stop = self.frames if stop is None else min(stop, self.frames)
        if stop <= start:
            return np.zeros(0, dtype=np.float32)
        try:
            self._file.seek(start)
            return self._file.read(stop - start, dtype="float32", always_2d=False, out=out)
        except (RuntimeError, OSError) as err:
            raise _unreadable(self.path, err) from None

    def read_padded(self, start: int, stop: int):
        """Samples ``[start, stop)`` with zeros where that lies outside the file (before its
        start or past its end): always ``stop - start`` of them, float32."""
        import numpy as np

        samples = self.read(start, stop)
        before = min(max(0, -start), stop - start)
        return np.pad(samples, (before, max(0, stop - start - before - len(samples))))

    def read_s(self, start_s: float, end_s: float):
        """Samples of ``[start_s, end_s)``, each end at its nearest sample."""
        return self.read(self.sample(start_s), self.sample(end_s))


def read_all(path: Path | str):
    """Every sample of the file, float32."""
    with AudioFile(path) as audio:
        return audio.read()


def read_segment(path: Path | str, start_s: float, end_s: float):
    """Samples of ``[start_s, end_s)``, float32."""
    with AudioFile(path) as audio:
        return audio.read_s(start_s, end_s)


def duration_s(path: Path | str) -> float:
    """The file's length in seconds (its format checked)."""
    with AudioFile(path) as audio:
        return audio.duration_s
