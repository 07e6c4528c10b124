"""Lyrics detection's parts: transcript cues, the audio score's direction, runs to regions,
and the stage on a synthetic tone-and-beat song between bursts of noise-like talk."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from shared import schema
from shared.errors import InputError
from shared.options.lyrics_detection import LyricsDetectionOptions
from stages.lyrics_detection import features, score
from stages.lyrics_detection.stage import check_options, run


def segment(start, end, text, logprob=-0.3):
    return schema.Segment(start, end, text, (), logprob)


def test_transcript_cues_score_sung_lines_above_sentences():
    segments = [
        segment(0, 3, " Where were you last night? I called you three times and nobody answered."),
        segment(10, 12, " oh my darling hold me close tonight"),
        segment(14, 16, " every star is shining just for you"),
        segment(18, 20, " oh my darling hold me close tonight"),
        segment(22, 24, " ♪ la la la ♪"),
        segment(26, 28, " [Music]"),
        segment(30, 33, " round and round and round and round we go", logprob=-1.2),
    ]
    s = score.segment_scores(segments)
    assert s[0] == 0.0
    assert s[1] == s[3] == 0.8  # a line that comes back
    assert s[2] == 0.35  # short, no sentence punctuation
    assert s[4] == s[5] == 1.0
    assert s[6] == pytest.approx(0.7)  # a repeated run inside the line, and Whisper unsure


def test_text_scores_need_a_segment_under_a_quarter_of_the_window():
    starts = np.array([0.0, 10.0, 20.0])
    values = score.text_scores([segment(10.5, 12.0, " ♪ la la ♪")], starts)
    assert np.isnan(values[0]) and values[1] == 1.0 and np.isnan(values[2])


def windows(**values) -> features.Windows:
    n = len(next(iter(values.values())))
    base = {"low_energy": [0.3] * n, "voiced": [0.7] * n, "beat": [0.15] * n, "flatness": [0.03] * n,
            "loudness_dbfs": [-20.0] * n}
    base.update(values)
    return features.Windows(np.arange(n) * features.HOP_S, *(np.array(base[k], dtype=np.float32) for k in
                                                              ("low_energy", "voiced", "beat", "flatness",
                                                               "loudness_dbfs")))


def test_audio_score_rises_with_song_like_features():
    talk = score.audio_scores(windows(low_energy=[0.32]))[0]
    song = score.audio_scores(windows(low_energy=[0.03], beat=[0.5], flatness=[0.006], voiced=[0.9]))[0]
    ballad = score.audio_scores(windows(low_energy=[0.04], beat=[0.1], flatness=[0.006], voiced=[0.9]))[0]
    talk_over_score = score.audio_scores(windows(low_energy=[0.28], beat=[0.12], flatness=[0.01], voiced=[0.85]))[0]
    assert talk < 0.05 and talk_over_score < 0.2
    assert song > 0.95 and ballad > 0.8


def test_runs_become_regions_joined_across_short_gaps_and_short_ones_dropped():
    n = 80  # 40 s at 0.5 s
    combined = np.zeros(n)
    combined[10:30] = 0.9  # 5-15 s
    combined[32:40] = 0.8  # 16-20 s: 1 s gap, joined
    combined[60:64] = 0.9  # 30-32 s: 2 s, too short
    scored = score.Scored(np.arange(n) * 0.5, combined, np.full(n, np.nan), combined)
    found = score.regions(scored, 0.5, 4.0, 2.0, 40.0)
    assert [(a, b) for a, b, *_ in found] == [(5.0, 20.0)]
    assert found[0][4] is None  # no transcript there


def test_options_are_checked():
    with pytest.raises(InputError, match="LYRICS_THRESHOLD"):
        check_options(LyricsDetectionOptions(threshold=1.5))


def test_stage_finds_a_synthetic_song_between_talk_like_noise(tmp_path):
    """Talk stand-in: noise bursts of syllable length with pauses. Song: held harmonic notes over a
    kick drum, no pauses."""
    sr = 16000
    rng = np.random.default_rng(1)
    talk = np.concatenate([np.concatenate([rng.standard_normal(int(sr * rng.uniform(0.1, 0.25))) * 0.1,
                                           np.zeros(int(sr * rng.uniform(0.05, 0.3)))]) for _ in range(60)])
    t = np.arange(int(sr * 0.5)) / sr
    notes = []
    for k in range(40):
        f = 220 * 2 ** ((k * 5 % 12) / 12)
        note = sum(np.sin(2 * np.pi * f * h * t) / h for h in range(1, 6)) * 0.2
        kick = np.sin(2 * np.pi * 60 * t) * np.exp(-t / 0.05) * (0.5 if k % 2 == 0 else 0.0)
        notes.append(note + kick)
    song = np.concatenate(notes)
    audio = np.concatenate([talk[:sr * 15], song, talk[:sr * 15]]).astype(np.float32)
    soundfile.write(tmp_path / "audio.wav", audio, sr, subtype="PCM_16")
    schema.write(tmp_path / "transcript.json", schema.Transcript("en", 1.0, len(audio) / sr, ()))
    outputs = {"lyrics": tmp_path / "lyrics.json"}
    report = run({"audio": tmp_path / "audio.wav", "transcript": tmp_path / "transcript.json"}, outputs,
                 LyricsDetectionOptions())
    found = schema.load(outputs["lyrics"], schema.LyricRegions)
    assert len(found.regions) == 1, found
    region = found.regions[0]
    assert abs(region.start_s - 15) < 2 and abs(region.end_s - 35) < 2
    assert 0.5 < region.confidence <= 1 and region.text_score is None
    assert report.metrics["regions"] == 1
