"""shots as users run it (``python -m stages.shots --job <id>``) on videos made with hard cuts
at known frames, at 25 and 23.976 fps, in MP4 and MKV; audio-only input gives an empty record."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from host.jobs import create_job
from shared import schema
from shared.schema import FrameRate
from tests.conftest import make_media, run_stage

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")

# Shots of different looks: each one starts with a hard cut from the one before.
SOURCES = ("color=c=black", "color=c=white", "testsrc", "color=c=red", "smptebars", "color=c=blue", "color=c=yellow",
           "testsrc2")
SHOT_FRAMES = (40, 37, 61, 29, 50, 45, 30)  # cuts at frames 40, 77, 138, 167, 217, 262


def cut_frames(lengths=SHOT_FRAMES) -> tuple[int, ...]:
    return tuple(itertools.accumulate(lengths))[:-1]


def cut_video(path: Path, rate: str, lengths=SHOT_FRAMES, audio: Path | None = None, codec: str = "libx264") -> Path:
    """A video of ``len(lengths)`` shots of ``lengths`` frames at ``rate`` (``25``, ``24000/1001``),
    lavfi sources concatenated (hard cuts), with ``audio`` (cut to the video's length) when given."""
    args: list[str] = []
    for k, _ in enumerate(lengths):
        source, _, colour = SOURCES[k % len(SOURCES)].partition("=c=")
        args += ["-f", "lavfi", "-i", f"{source}={'c=' + colour + ':' if colour else ''}s=160x90:r={rate}"]
    chains = "".join(f"[{k}:v]trim=end_frame={n},setpts=PTS-STARTPTS[v{k}];" for k, n in enumerate(lengths))
    graph = chains + "".join(f"[v{k}]" for k in range(len(lengths))) + f"concat=n={len(lengths)}:v=1:a=0[v]"
    maps = ["-i", str(audio), "-map", "[v]", "-map", f"{len(lengths)}:a", "-shortest"] if audio else ["-map", "[v]"]
    return make_media(path, *args, "-filter_complex", graph, *maps, "-c:v", codec, "-pix_fmt", "yuv420p", "-r", rate)


def shots_of(media: Path, jobs_dir: Path, **env: str) -> tuple[subprocess.CompletedProcess, Path]:
    job = create_job(media, jobs_dir=jobs_dir)
    demux = run_stage("demux", job.id, jobs_dir)
    assert demux.returncode == 0, demux.stderr
    return run_stage("shots", job.id, jobs_dir, **env), jobs_dir / job.id / "shots" / "shots.json"


@pytest.mark.parametrize(("name", "rate", "expected", "codec"), [
    ("cuts.mp4", "25", FrameRate(25), "libx264"),
    ("cuts.mkv", "24000/1001", FrameRate(24000, 1001), "libx264"),
    ("cuts.ts", "25", FrameRate(25), "mpeg2video"),  # MPEG-TS: timestamps start at 1.4 s
])
def test_cuts_are_found_at_their_exact_frames(tmp_path, jobs_dir, name, rate, expected, codec):
    tone = make_media(tmp_path / "tone.wav", "-f", "lavfi", "-i", "sine=d=12")
    media = cut_video(tmp_path / name, rate, audio=tone, codec=codec)
    proc, path = shots_of(media, jobs_dir)
    assert proc.returncode == 0, proc.stderr
    record = schema.load(path, schema.ShotChanges)
    assert record.frame_rate == expected
    assert record.cut_frames == cut_frames()
    assert record.frame_count == sum(SHOT_FRAMES)
    assert record.detector == "ffmpeg scdet" and record.threshold == 10.0
    assert record.producer.stage == "shots" and record.producer.model["tool"] == "ffmpeg"
    data = json.loads(path.read_text())
    assert data["frame_rate"]["num"] == expected.num and data["frame_rate"]["den"] == expected.den
    assert [c["time_s"] for c in data["cuts"]] == [round(f * expected.den / expected.num, 6) for f in cut_frames()]
    assert "shots detecting" in proc.stderr  # progress through the hook


def test_a_higher_threshold_keeps_only_the_strong_cuts(tmp_path, jobs_dir):
    media = cut_video(tmp_path / "cuts.mp4", "25", audio=make_media(tmp_path / "tone.wav", "-f", "lavfi", "-i", "sine=d=12"))
    proc, path = shots_of(media, jobs_dir, SHOTS_THRESHOLD_PERCENT="50")
    assert proc.returncode == 0, proc.stderr
    record = schema.load(path, schema.ShotChanges)
    assert record.cut_frames == (40, 262) and record.threshold == 50.0  # black->white, yellow->testsrc2


def test_audio_only_input_gives_an_empty_record(tmp_path, jobs_dir):
    proc, path = shots_of(make_media(tmp_path / "speech.flac", "-f", "lavfi", "-i", "sine=d=3"), jobs_dir)
    assert proc.returncode == 0, proc.stderr
    record = schema.load(path, schema.ShotChanges)
    assert record.frame_rate is None and record.cut_frames == () and record.video_stream_index is None
    assert "no video stream" in proc.stderr
