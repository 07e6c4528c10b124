"""shared.ffmpeg: progress parsing and one-line failures."""

import stat
from pathlib import Path

import pytest

from shared import ffmpeg
from shared.errors import StageFailed


@pytest.mark.parametrize("line, seconds", [
    ("out_time_us=1500000", 1.5), ("out_time_ms=2000000", 2.0), ("out_time=00:01:02.500000", 62.5),
    ("out_time_us=N/A", None), ("progress=continue", None), ("out_time=-00:00:00.020000", 0.02),
])
def test_progress_lines(line, seconds):
    key, _, value = line.partition("=")
    assert ffmpeg.progress_seconds(key, value) == (pytest.approx(seconds) if seconds is not None else None)


def fake_ffmpeg(tmp_path: Path, monkeypatch, body: str) -> None:
    script = tmp_path / "ffmpeg"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(ffmpeg, "FFMPEG", str(script))


def test_ffmpeg_failing_midway_raises_its_last_line(tmp_path, monkeypatch):
    fake_ffmpeg(tmp_path, monkeypatch, 'echo "out_time_us=2000000"\necho "progress=continue"\n'
                'echo "[aac @ 0x1] decoding warning" >&2\n'
                'echo "Error while decoding stream #0:1: Invalid data found when processing input" >&2\nexit 1\n')
    calls = []
    with pytest.raises(StageFailed) as err:
        ffmpeg.run_ffmpeg(["-i", "x"], 10.0, lambda step, done, total=None: calls.append((step, done, total)),
                          step="decoding", what="ffmpeg decoding")
    assert str(err.value).startswith("ffmpeg decoding failed: Error while decoding stream #0:1: Invalid data")
    assert "\n" not in str(err.value)
    assert calls == [("decoding", 2.0, 10.0)]


def test_ffmpeg_missing_is_one_line(monkeypatch):
    monkeypatch.setattr(ffmpeg, "FFMPEG", "/nonexistent/ffmpeg")
    with pytest.raises(StageFailed, match="not installed"):
        ffmpeg.run_ffmpeg(["-version"], None)
