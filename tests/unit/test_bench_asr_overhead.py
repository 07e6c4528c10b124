"""The pure helpers of bench.asr_overhead and bench.audio_fixtures (no model, no timing)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from bench import asr_overhead as bench
from bench.audio_fixtures import gap_after, plan_sequence, speech_wav


def test_median_ignores_missing_values():
    assert bench.median([3.0, 1.0, 2.0]) == 2.0
    assert bench.median([4.0, 2.0]) == 3.0
    assert bench.median([None, 5.0]) == 5.0
    assert bench.median([]) is None
    assert bench.median([None]) is None


def test_ratio_and_verdict():
    assert bench.ratio(11.0, 10.0) == pytest.approx(1.1)
    assert bench.ratio(1.0, 0.0) is None
    assert bench.ratio(None, 2.0) is None
    assert bench.verdict(1.10, 1.10) == "PASS"
    assert bench.verdict(1.1001, 1.10) == "FAIL"
    assert bench.verdict(None, 1.10) == "n/a"
    assert bench.ratio_line("asr_overhead", 1.034) == "asr_overhead: ratio 1.03 (target <= 1.10) PASS"
    assert bench.ratio_line("asr_overhead", 1.2).endswith("FAIL")
    assert bench.ratio_line("asr_overhead", None) == "asr_overhead: ratio - (target <= 1.10) n/a"


def test_format_table_aligns_columns():
    table = bench.format_table(["", "round 1", "median"], [["bare s", 31.25, 30.0], ["ours s", None, 3]])
    lines = table.splitlines()
    assert lines[0].split() == ["round", "1", "median"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split() == ["bare", "s", "31.2", "30.0"]  # rounded to one decimal
    assert lines[3].split() == ["ours", "s", "-", "3"]
    assert len({len(line) for line in lines[:3]}) == 1  # right-aligned to the same width


def test_plan_sequence_cycles_until_the_target():
    assert plan_sequence([10.0, 5.0], 30.0) == [0, 1, 0, 1]
    assert plan_sequence([10.0, 5.0, 1.0], 1.0) == [0, 1, 2]  # at least one full cycle
    with pytest.raises(ValueError):
        plan_sequence([], 10.0)
    assert [gap_after(i, 0.5, 2.0, 3) for i in range(4)] == [0.5, 0.5, 2.0, 0.5]


def test_save_keeps_the_other_mode(tmp_path: Path):
    path = tmp_path / "r.json"
    bench.save("overhead", {"ratio": 1.0}, path)
    bench.save("overhead-smoke", {"ratio": 2.0}, path)
    assert json.loads(path.read_text()) == {"overhead": {"ratio": 1.0}, "overhead-smoke": {"ratio": 2.0}}


def test_run_measured_reports_the_child(tmp_path: Path):
    m = bench.run_measured([sys.executable, "-c", "print('hi')"], tmp_path / "log.txt")
    assert m.returncode == 0 and m.wall_s > 0 and m.peak_rss_mb > 1
    assert (tmp_path / "log.txt").read_text().strip() == "hi"


def test_speech_wav_from_a_short_clip(tmp_path: Path, eval_data: Path):
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    soundfile = pytest.importorskip("soundfile")
    wav, meta = speech_wav(20.0, tmp_path, gap_s=0.5, long_gap_s=1.0, long_every=2, eval_data=eval_data,
                           clips=("jfk.flac",), flite_texts=())
    info = soundfile.info(str(wav))
    assert (info.samplerate, info.channels) == (16000, 1)
    assert meta["clips"] == 2 and meta["made_of"] == {"eval:jfk.flac": 2}
    assert meta["duration_s"] == pytest.approx(2 * 11.0 + 0.5 + 1.0, abs=0.05)
    assert info.frames / 16000 == pytest.approx(meta["duration_s"], abs=0.01)
    assert speech_wav(20.0, tmp_path, gap_s=0.5, long_gap_s=1.0, long_every=2, eval_data=eval_data,
                      clips=("jfk.flac",), flite_texts=())[0] == wav  # cached by its recipe
