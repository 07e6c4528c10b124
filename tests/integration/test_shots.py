"""Shot changes through the native runner: a video with hard cuts at known frames (25 and
23.976 fps) and JFK's speech; the shots stage finds every cut at its frame, and every cue
of the subtitles is on frame boundaries and obeys the shot rules or is listed in qc.json."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shared import schema
from shared.options.subtitles import SubtitleOptions
from stages.subtitles.shots import ShotGrid
from tests.conftest import REPO_ROOT, stage_env
from tests.unit.test_shots_stage import cut_frames, cut_video

pytestmark = pytest.mark.integration

SKIP = "pre-ner,post-ner,pyannote-vad,diarization,speakers,lyrics-detection"
# Shots cut across JFK's phrases (11 s): 20-55 frames, so cue edges fall near cuts.
SHOTS = (30, 20, 45, 25, 55, 30, 40, 25, 50, 20)


@pytest.mark.parametrize(("rate", "container"), [("25", "mp4"), ("24000/1001", "mkv")])
def test_cues_follow_the_cuts(eval_data, tmp_path, rate, container):
    media = cut_video(tmp_path / f"jfk cuts.{container}", rate, SHOTS, audio=eval_data / "jfk.flac")
    jobs_dir = tmp_path / "jobs"
    result = subprocess.run([sys.executable, "-m", "host.runner", str(media), "--jobs-dir", str(jobs_dir)],
                            cwd=REPO_ROOT, env=stage_env(jobs_dir, SKIP_STAGES=SKIP), capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stderr
    job = next(p for p in jobs_dir.iterdir() if p.is_dir())

    shots = schema.load(job / "shots" / "shots.json", schema.ShotChanges)
    assert shots.frame_count > 250  # -shortest ends the video with the speech (11 s)
    assert shots.cut_frames == tuple(c for c in cut_frames(SHOTS) if c < shots.frame_count)
    assert str(shots.frame_rate) == (rate if "/" in rate else f"{rate}/1")

    grid = ShotGrid(shots.frame_rate, shots.cut_frames)
    cues = json.loads(next((job / "subtitles").glob("*.en.json")).read_text())["cues"]
    assert len(cues) >= 2
    qc = json.loads((job / "subtitles" / "qc.json").read_text())
    reported = {(v["cue"], v["rule"]) for v in qc["violations"]}
    assert qc["profile"]["shot_snap_frames"] == 12
    touched = 0
    for number, cue in enumerate(cues, start=1):
        for ms in (cue["start_ms"], cue["end_ms"]):  # on a frame boundary (whole ms, nearest)
            assert abs(ms - grid.frame(ms) * shots.frame_rate.frame_ms) <= 0.5
        if grid.start_problems(cue["start_ms"]):
            assert (number, "shot_change_start") in reported
        if grid.end_problems(cue["end_ms"]):
            assert (number, "shot_change_end") in reported
        start, end = grid.frame(cue["start_ms"]), grid.frame(cue["end_ms"])
        touched += start in shots.cut_frames or end + SubtitleOptions().shot_end_gap_frames in shots.cut_frames
    assert touched, "some cue edge was snapped to a cut"
    lines = (job / "subtitles" / "qc.csv").read_text().splitlines()
    assert len(lines) == 1 + qc["violation_count"]
