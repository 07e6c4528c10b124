"""The pure helpers of bench.film_cost (no media, no runner)."""

from __future__ import annotations

import numpy as np
import pytest

from bench import film_cost


def test_plan_cycle_takes_the_reels_in_turn_and_cuts_the_last():
    assert film_cost.plan_cycle([10.0, 5.0], 32.0) == [(0, 0.0, 10.0), (1, 10.0, 5.0), (0, 15.0, 10.0),
                                                        (1, 25.0, 5.0), (0, 30.0, 2.0)]
    assert film_cost.plan_cycle([60.0], 30.0) == [(0, 0.0, 30.0)]
    with pytest.raises(ValueError):
        film_cost.plan_cycle([], 10.0)
    with pytest.raises(ValueError):
        film_cost.plan_cycle([10.0], 0.0)


def test_mono_reels_go_to_the_centre_and_51_stays():
    mono = np.array([1, 2, 3], dtype=np.int16)
    six = film_cost._as_51(mono)
    assert six.shape == (3, 6)
    assert six[:, film_cost.CENTRE].tolist() == [1, 2, 3]
    assert not np.delete(six, film_cost.CENTRE, axis=1).any()
    surround = np.ones((4, 6), dtype=np.int16)
    assert film_cost._as_51(surround) is surround
    with pytest.raises(ValueError):
        film_cost._as_51(np.ones((4, 2), dtype=np.int16))


def test_shares_and_targets():
    stages = film_cost.stage_rows([
        {"stage": "asr", "wall_s": 30.0, "peak_rss_mb": 900.0},
        {"stage": "diarization", "wall_s": 90.0, "peak_rss_mb": 2100.0},
        {"stage": "translation", "wall_s": None, "peak_rss_mb": None},
    ])
    assert [s["share"] for s in stages] == [0.25, 0.75, None]
    checks = film_cost.targets(0.3, stages)
    assert [(c["what"], c["ok"]) for c in checks] == [
        ("whole pipeline real-time factor", False), ("asr peak memory MB", True), ("diarization peak memory MB", False)]
    assert film_cost.targets(0.25, [])[0]["ok"]
    assert not film_cost.targets(None, [])[0]["ok"]
    assert film_cost.target_line(checks[0]).startswith("  MISS whole pipeline real-time factor")
    assert "(1.20x the target)" in film_cost.target_line(checks[0])
    assert film_cost.target_line(checks[1]).startswith("  ok   asr peak memory MB")


def test_the_run_has_every_stage_default(monkeypatch):
    monkeypatch.setenv("SKIP_STAGES", "diarization")
    monkeypatch.setenv("ASR_MODEL", "base")
    monkeypatch.setenv("TARGET_LANGUAGES", "de")
    env = film_cost.runner_env(smoke=False)
    assert "SKIP_STAGES" not in env and "ASR_MODEL" not in env and "TARGET_LANGUAGES" not in env
    assert film_cost.runner_env(smoke=True)["SKIP_STAGES"] == "pyannote-vad,diarization,speakers"


def test_cpu_floor():
    assert film_cost.cpu_floor(600.0, 2, 3600.0) == pytest.approx(0.0833, abs=1e-4)
    assert film_cost.cpu_floor(None, 2, 3600.0) is None
    assert film_cost.cpu_floor(10.0, 2, 0.0) is None
