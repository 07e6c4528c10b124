"""bench/eval_film.py's figures from a transcript and cues against a reel's reference, and
bench/film_reels.py's voiced extents: each figure counts what it says and nothing else."""

from pathlib import Path

import numpy as np
import pytest

from bench.eval_film import measure, summarize
from bench.film_reels import SR, Passage, Reel, voiced_extent


def reel(delay_s: float = 0.0) -> Reel:
    return Reel("t", "test", Path("t.mp4"), 60.0,
                [Passage(10.0, 12.0, "Ask not what your country can do.", "dialogue", "en", "a"),
                 Passage(20.0, 25.0, "oh my darling", "song", "en", "b"),
                 Passage(30.0, 33.0, "", "foreign", "de", "c")],
                [(19.0, 26.0)], delay_s)


def words(*items):
    return [{"start_s": a, "end_s": b, "text": " " + t} for a, b, t in items]


def transcript(shift: float = 0.0) -> dict:
    dialogue = words(*[(10.0 + shift + 0.3 * k, 10.25 + shift + 0.3 * k, w)
                       for k, w in enumerate("ask not what your country can do".split())])
    return {"language": "en", "segments": [
        {"words": dialogue},
        {"words": words((45.0 + shift, 45.4 + shift, "Thank"), (45.4 + shift, 45.8 + shift, "you."))},  # in non-speech
        {"words": words((30.2 + shift, 31.0 + shift, "gibberish"))},
    ]}


def test_figures_of_a_reel():
    cues = [(10.1, 12.0, "Ask not what your country can do."), (20.2, 24.0, "♪ oh my darling ♪"),
            (45.0, 46.0, "♪ Thank you. ♪")]
    row = measure(reel(), transcript(), cues)
    assert row["hallucinated_words"] == 2 and row["hallucinated_text"] == "Thank you."
    assert row["nonspeech_s"] == pytest.approx(60.0 - 10.0)
    assert row["reference"] == row["hypothesis"] == "ask not what your country can do"
    assert sorted(row["cue_timing_ms"]) == [100, 200]
    assert (row["song_cues"], row["marked_cues"], row["marked_song_cues"]) == (1, 2, 1)
    assert [p["got"] for p in row["languages"]] == ["en", "-", "en"]
    total = summarize([row])
    assert total["dialogue_wer"] == 0.0 and total["song_precision"] == 0.5 and total["song_recall"] == 1.0
    assert total["hallucinated_per_10min"] == pytest.approx(10 * 2 / (50 / 60), abs=0.01)


def test_a_delayed_audio_track_is_scored_on_the_video_timeline():
    row = measure(reel(delay_s=2.0), transcript(shift=2.0), [(12.1, 14.0, "Ask not")])
    assert row["hallucinated_words"] == 2 and row["cue_timing_ms"] == [100]
    late = measure(reel(delay_s=2.0), transcript(), [(10.1, 12.0, "Ask not")])  # times left on the audio's timeline
    assert late["cue_timing_ms"] == [] and late["hypothesis"] != late["reference"]


def test_voiced_extent_finds_the_first_and_last_loud_frame():
    audio = np.zeros(SR * 3, np.float32)
    audio[int(0.5 * SR):int(2.0 * SR)] = 0.1 * np.sin(np.arange(int(1.5 * SR)) / 5)
    assert voiced_extent(audio) == pytest.approx((0.5, 2.0), abs=0.02)
