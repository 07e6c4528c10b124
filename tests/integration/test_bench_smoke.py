"""Every benchmark runs: its smoke mode (a few seconds of input) through the real code path.

The figures of a smoke run mean nothing (inputs too short, a busy machine); what is
checked is that each benchmark still runs to its report, so none can rot unnoticed.
The real runs are `make bench` and `make eval` (bench/README.md)."""

import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

SMOKES = {
    "asr_overhead": (["bench.asr_overhead", "--smoke"], "ratio asr/bare"),
    "diarization_speed": (["bench.diarization_speed", "--smoke"], "RTF"),
    "eval_lyrics": (["bench.eval_lyrics", "--smoke"], "mean F1"),
    "eval_names": (["bench.eval_names", "--smoke"], "false corrections"),
    "eval_speakers": (["bench.eval_speakers", "--smoke"], "turns right"),
    "scale": (["bench.scale", "--smoke"], "ratio queue-2/native-2"),
    "eval_film": (["bench.eval_film", "--smoke"], "hallucinated words"),
    "enhance": (["bench.enhance", "--smoke"], "enhancer time per minute of audio"),
    "film_cost": (["bench.film_cost", "--smoke"], "film_cost: RTF"),
    "reading_speed": (["bench.reading_speed", "--smoke"], "cues over the reading-speed cap"),
}


@pytest.mark.parametrize("name", sorted(SMOKES))
def test_benchmark_smoke_mode_runs_to_its_report(name):
    argv, expected = SMOKES[name]
    proc = subprocess.run([sys.executable, "-m", *argv], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert expected in proc.stdout, proc.stdout[-3000:]
