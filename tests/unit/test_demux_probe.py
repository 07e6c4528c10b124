"""ffprobe JSON -> streams, duration, layouts; errors for what is not media."""

from __future__ import annotations

import pytest

from shared.errors import InputError
from stages.demux.probe import describe_stream, parse, probe
from tests.conftest import make_media

RECORDED = {
    "streams": [
        {"index": 0, "codec_name": "h264", "codec_type": "video", "disposition": {"default": 1},
         "tags": {"language": "und", "handler_name": "VideoHandler"}},
        {"index": 1, "codec_name": "aac", "codec_type": "audio", "sample_rate": "48000", "channels": 6,
         "channel_layout": "5.1(side)", "disposition": {"default": 1}, "duration": "5.0",
         "tags": {"LANGUAGE": "ENG", "title": "Original mix"}},
        {"index": 2, "codec_name": "ac3", "codec_type": "audio", "sample_rate": "48000", "channels": 2,
         "channel_layout": "stereo", "disposition": {"default": 0}, "tags": {"language": "ger"}},
        {"index": 3, "codec_type": "data", "codec_tag_string": "tmcd"},
    ],
    "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "5.005000"},
}


def test_parse_recorded_ffprobe_output():
    probed = parse(RECORDED)
    assert probed.container == "mov,mp4,m4a,3gp,3g2,mj2"
    assert probed.duration_s == pytest.approx(5.005)
    video, eng, ger, data = probed.streams
    assert (video.kind, video.codec, video.language, video.default) == ("video", "h264", "", True)
    assert (eng.index, eng.kind, eng.codec, eng.language, eng.channels, eng.sample_rate_hz, eng.title, eng.default) == (
        1, "audio", "aac", "eng", 6, 48000, "Original mix", True)
    assert (ger.language, ger.channels, ger.default) == ("ger", 2, False)
    assert (data.kind, data.codec) == ("data", "tmcd")
    assert probed.channel_layouts == {1: "5.1(side)", 2: "stereo"}
    assert [s.index for s in probed.audio_streams] == [1, 2]


def test_duration_falls_back_to_streams_then_unknown():
    no_format_duration = {**RECORDED, "format": {"format_name": "wav", "duration": "N/A"}}
    assert parse(no_format_duration).duration_s == pytest.approx(5.0)
    assert parse({"streams": [{"index": 0, "codec_type": "audio"}], "format": {}}).duration_s is None


def test_describe_stream_for_messages():
    eng = parse(RECORDED).streams[1]
    assert describe_stream(eng) == "eng, aac, 6 ch, 'Original mix', default"


def test_text_file_is_not_media(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 20)
    with pytest.raises(InputError, match="not a media file ffmpeg can read") as err:
        probe(fake)
    assert "\n" not in str(err.value)


def test_probe_real_file_with_two_tagged_audio_streams(tmp_path):
    media = make_media(tmp_path / "two.mkv", "-f", "lavfi", "-i", "sine=f=440:d=1", "-f", "lavfi", "-i", "sine=f=1000:d=1",
                       "-map", "0", "-map", "1", "-c:a", "flac", "-metadata:s:a:0", "language=eng",
                       "-metadata:s:a:1", "language=ger")
    probed = probe(media)
    assert probed.container == "matroska,webm"
    assert [(s.kind, s.language) for s in probed.streams] == [("audio", "eng"), ("audio", "ger")]
    assert probed.duration_s == pytest.approx(1.0, abs=0.05)
