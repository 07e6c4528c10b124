"""shared.ffmpeg: progress parsing and one-line failures."""

import os
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


def test_ffmpeg_output_is_the_whole_standard_output():
    wav = ffmpeg.ffmpeg_output(["-f", "lavfi", "-i", "sine=frequency=440:duration=0.5:sample_rate=16000",
                                "-c:a", "pcm_s16le", "-f", "wav", "-"], "decoding", "")
    assert wav[:4] == b"RIFF" and len(wav) >= 16000 * 2 // 2


def test_a_stream_failing_after_its_output_raises_its_last_error_line(tmp_path, monkeypatch):
    fake_ffmpeg(tmp_path, monkeypatch, "echo 'frame:1 pts_time:0.04'\necho 'first' >&2\necho 'Invalid data found' >&2\nexit 1\n")
    with pytest.raises(StageFailed) as err, ffmpeg.ffmpeg_stdout([], "scene detection", "try SKIP_STAGES=shots", text=True) as out:
        assert out.readline().startswith("frame:1")
    assert err.value.message == "scene detection failed: Invalid data found" and err.value.hint == "try SKIP_STAGES=shots"


def test_what_the_block_leaves_unread_never_stalls_ffmpeg(tmp_path, monkeypatch):
    fake_ffmpeg(tmp_path, monkeypatch, "head -c 2000000 /dev/zero\nexit 0\n")  # far more than a pipe holds
    with ffmpeg.ffmpeg_stdout([], "reading", "") as out:
        assert out.read(10) == b"\0" * 10


def test_a_block_that_raises_kills_ffmpeg(tmp_path, monkeypatch):
    pid_file = tmp_path / "pid"
    fake_ffmpeg(tmp_path, monkeypatch, f"echo $$ > {pid_file}\nexec yes\n")
    with pytest.raises(ValueError), ffmpeg.ffmpeg_stdout([], "reading", "") as out:
        out.read(100)
        raise ValueError("the caller gave up")
    with pytest.raises(ProcessLookupError):  # killed and reaped: no such process
        os.kill(int(pid_file.read_text()), 0)
