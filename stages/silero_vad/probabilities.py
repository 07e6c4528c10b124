"""Speech probabilities, one per 32 ms frame, from the Silero VAD ONNX sequence model.

The WAV is streamed from disk in blocks of frames: memory stays flat in the
audio length, apart from the output (one float32 per frame, 14 KB a minute).
Each model input row is 64 samples of context (the previous frame's last 64
samples; zeros before the first frame) followed by the frame's 512 samples;
the LSTM state ``h``/``c`` is carried from one call to the next, so the result
does not depend on the block size. The last partial frame is zero-padded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.audio import AUDIO_FORMAT, AudioFile
from shared.errors import ModelNotFound
from shared.progress import ProgressHook, no_progress

FRAME_SAMPLES = 512  # 32 ms at 16 kHz: the frame the model was trained on
CONTEXT_SAMPLES = 64
STATE_SHAPE = (1, 1, 128)
BLOCK_FRAMES = 512  # frames per model call (about 16 s of audio)


@dataclass(frozen=True)
class AudioInfo:
    samples: int
    sample_rate_hz: int
    channels: int

    @property
    def duration_s(self) -> float:
        return self.samples / self.sample_rate_hz if self.sample_rate_hz else 0.0

    @property
    def frames(self) -> int:
        return -(-self.samples // FRAME_SAMPLES)


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def audio_info(path: Path) -> AudioInfo:
    """Length and format of the WAV (StageFailed unless it is in the graph's audio format)."""
    with AudioFile(path) as audio:
        return _info(audio)


def _info(audio: AudioFile) -> AudioInfo:
    return AudioInfo(audio.frames, audio.sample_rate_hz, AUDIO_FORMAT.channels)


def load_session(model_path: str, threads: int | None = None):
    """An onnxruntime CPU session for the Silero sequence model."""
    import onnxruntime

    so = onnxruntime.SessionOptions()
    so.intra_op_num_threads = threads or cpu_count()
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own exception types
        raise ModelNotFound(f"cannot load the Silero VAD model {model_path}: {err}") from None
    names = {i.name for i in session.get_inputs()}
    if names != {"input", "h", "c"}:
        raise ModelNotFound(
            f"{model_path} is not a Silero VAD sequence model (inputs {sorted(names)}, expected input, h, c)",
            "use silero-vad or a silero_vad_16k_sequence.onnx file",
        )
    return session


def frame_windows(context: np.ndarray, samples: np.ndarray, frames: int) -> np.ndarray:
    """Model input rows (frames, 576) for ``samples`` preceded by ``context`` (64 samples);
    samples missing at the end of the last frame are zeros."""
    buf = np.zeros(CONTEXT_SAMPLES + frames * FRAME_SAMPLES, dtype=np.float32)
    buf[:CONTEXT_SAMPLES] = context
    buf[CONTEXT_SAMPLES:CONTEXT_SAMPLES + len(samples)] = samples
    rows = np.lib.stride_tricks.sliding_window_view(buf, CONTEXT_SAMPLES + FRAME_SAMPLES)[::FRAME_SAMPLES]
    return np.ascontiguousarray(rows[:frames])


def speech_probabilities(
    path: Path,
    session,
    block_frames: int = BLOCK_FRAMES,
    hook: ProgressHook = no_progress,
) -> tuple[np.ndarray, AudioInfo]:
    """One speech probability per 32 ms frame of the WAV at ``path`` (read block by block)."""
    with AudioFile(path) as wav:
        info = _info(wav)
        total = info.frames
        probs = np.empty(total, dtype=np.float32)
        h = np.zeros(STATE_SHAPE, dtype=np.float32)
        c = np.zeros(STATE_SHAPE, dtype=np.float32)
        context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        done = position = 0
        hook("frames", 0, total)
        while done < total:
            samples = wav.read(position, position + block_frames * FRAME_SAMPLES)
            if len(samples) == 0:
                break  # the header promised more than the file holds: the rest counts as silence
            position += len(samples)
            frames = min(-(-len(samples) // FRAME_SAMPLES), total - done)
            samples = samples[:frames * FRAME_SAMPLES]
            rows = frame_windows(context, samples, frames)
            out, h, c = session.run(None, {"input": rows, "h": h, "c": c})
            probs[done:done + frames] = out
            context = rows[-1, -CONTEXT_SAMPLES:].copy()
            done += frames
            hook("frames", done, total)
    if done < total:
        probs[done:] = 0.0
    return probs, info
