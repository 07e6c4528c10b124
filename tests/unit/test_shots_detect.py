"""scdet's printed marks to cut frames (recorded output), and the ffmpeg command."""

from __future__ import annotations

from pathlib import Path

from shared.schema import FrameRate
from stages.shots.detect import detect_args, parse_metadata
from stages.shots.video import VideoStream

# ffmpeg -i cuts.mkv -vf scdet=threshold=10:sc_pass=0,metadata=mode=print:file=- -f null -   (23.976 fps, start 0.003 s)
RECORDED = """frame:0    pts:3       pts_time:0.003
frame:1    pts:45      pts_time:0.045
lavfi.scd.mafd=0.000
lavfi.scd.score=0.000
frame:40   pts:1671    pts_time:1.671
lavfi.scd.mafd=85.547
lavfi.scd.score=85.547
lavfi.scd.time=1.671
frame:41   pts:1713    pts_time:1.713
lavfi.scd.mafd=0.000
lavfi.scd.score=0.000
frame:262  pts:10931   pts_time:10.931
lavfi.scd.mafd=66.016
lavfi.scd.score=66.016
lavfi.scd.time=10.931
"""
STREAM = VideoStream(0, 0, "h264", FrameRate(24000, 1001), 0.003, 0)


def test_cut_frames_come_from_times_at_the_stream_rate():
    calls = []
    found = parse_metadata(RECORDED.splitlines(), STREAM, lambda *a: calls.append(a), 12.0)
    assert found.cut_frames == (40, 262)
    assert found.cut_scores == (85.547, 66.016)
    assert found.frame_count == 5
    assert calls and calls[-1][0] == "detecting" and calls[-1][2] == 12.0


def test_a_mark_on_the_first_frame_is_no_cut():
    lines = ["frame:0 pts:0 pts_time:0", "lavfi.scd.score=99", "lavfi.scd.time=0"]
    assert parse_metadata(lines, VideoStream(0, 0, "h264", FrameRate(25), 0.0, 0)).cut_frames == ()


def test_the_command_maps_only_the_chosen_video_stream():
    args = detect_args(Path("/media/film.mkv"), VideoStream(3, 1, "hevc", FrameRate(25), 0.0, 0), 12.5)
    assert args[args.index("-map") + 1] == "0:v:1"
    assert "scdet=threshold=12.5:sc_pass=0" in args[args.index("-vf") + 1]
    assert {"-an", "-sn", "-dn"} <= set(args) and args[-3:] == ["-f", "null", "-"]


def test_frames_count_from_the_first_frame_whatever_the_file_start():
    # ffmpeg shifts an MPEG-TS by the file's start before the filters: times start where they start
    lines = ["frame:0 pts:126000 pts_time:1.4", "frame:1 pts:129600 pts_time:1.44", "lavfi.scd.score=40",
             "lavfi.scd.time=1.44", "frame:2 pts:133200 pts_time:1.48"]
    found = parse_metadata(lines, VideoStream(0, 0, "mpeg2video", FrameRate(25), 1.44, 0))
    assert found.cut_frames == (1,) and found.frame_count == 3
