"""The padded segment reading the translation stage and the second pass share (no model needed)."""

from __future__ import annotations

import numpy as np
import soundfile

from shared import whisper
from shared.audio import SAMPLE_RATE_HZ as RATE


def test_a_segment_is_read_padded_and_at_most_one_window(tmp_path):
    wav = tmp_path / "audio.wav"
    samples = (np.arange(40 * RATE) % 2**15 / 2**15).astype(np.float32)
    soundfile.write(str(wav), samples, RATE, subtype="PCM_16")
    middle, start, long, end = whisper.read_clips(wav, [(2.0, 3.0), (0.05, 1.0), (1.0, 39.0), (39.9, 45.0)])
    pad = int(whisper.PAD_S * RATE)
    np.testing.assert_array_equal(middle, samples[2 * RATE - pad:3 * RATE + pad])
    assert len(start) == RATE + pad  # nothing before the file's start
    assert len(long) == int(whisper.MAX_SEGMENT_S * RATE)  # Whisper's 30 s window
    assert len(end) == int(0.1 * RATE) + pad  # nothing after its end
