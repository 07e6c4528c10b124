"""Which video stream the shots stage analyses, and its frame rate as a rational."""

from __future__ import annotations

import pytest

from shared.errors import InputError
from shared.schema import FrameRate
from stages.shots.video import choose, parse_rate, video_streams


def test_rates_are_exact_rationals():
    assert parse_rate("24000/1001") == FrameRate(24000, 1001)
    assert parse_rate("25/1") == FrameRate(25, 1)
    assert parse_rate("50/2") == FrameRate(25, 1)
    for bad in ("0/0", "", None, "N/A", "90000/1", "-25/1"):
        assert parse_rate(bad) is None


def test_cover_art_and_rateless_streams_are_not_video():
    streams = [
        {"index": 0, "codec_type": "audio", "codec_name": "mp3"},
        {"index": 1, "codec_type": "video", "codec_name": "mjpeg", "disposition": {"attached_pic": 1},
         "avg_frame_rate": "0/0", "r_frame_rate": "90000/1"},
        {"index": 2, "codec_type": "video", "codec_name": "h264", "avg_frame_rate": "0/0", "r_frame_rate": "30000/1001",
         "start_time": "0.033", "nb_frames": "300"},
    ]
    found = video_streams(streams)
    assert [(s.index, s.position, s.frame_rate, s.start_s, s.frame_count) for s in found] == \
        [(2, 1, FrameRate(30000, 1001), 0.033, 300)]
    assert choose(found, "auto") == found[0] and choose(found, "0") == found[0]
    assert choose([], "auto") is None
    with pytest.raises(InputError, match="SHOTS_VIDEO_STREAM"):
        choose(found, "3")
