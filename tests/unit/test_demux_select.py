"""Choosing the audio stream: auto, an index among audio streams, a language code."""

from __future__ import annotations

import pytest

from shared.errors import InputError
from shared.schema import StreamInfo
from stages.demux.select import choose_audio_stream

VIDEO = StreamInfo(0, "video", "h264", default=True)
ENG = StreamInfo(1, "audio", "aac", "eng", 2, 48000)
GER = StreamInfo(2, "audio", "ac3", "ger", 6, 48000, default=True)
FRA = StreamInfo(3, "audio", "aac", "fra", 2, 48000)
SUBS = StreamInfo(4, "subtitle", "subrip", "eng")
STREAMS = (VIDEO, ENG, GER, FRA, SUBS)


def test_auto_takes_the_default_audio_stream():
    assert choose_audio_stream(STREAMS, "auto") == (1, GER)


def test_auto_without_default_takes_the_first_audio_stream():
    assert choose_audio_stream((VIDEO, ENG, FRA), "auto") == (0, ENG)


@pytest.mark.parametrize("spec, expected", [("0", ENG), ("1", GER), ("2", FRA)])
def test_number_is_the_position_among_audio_streams(spec, expected):
    assert choose_audio_stream(STREAMS, spec)[1] == expected


@pytest.mark.parametrize("spec, expected", [
    ("eng", ENG), ("en", ENG), ("EN", ENG), ("ger", GER), ("de", GER), ("deu", GER), ("fr", FRA), ("fre", FRA),
])
def test_language_code_in_iso639_1_or_2(spec, expected):
    assert choose_audio_stream(STREAMS, spec)[1] == expected


def test_several_matches_prefer_the_default():
    other_ger = StreamInfo(5, "audio", "aac", "deu", 2, 48000)
    assert choose_audio_stream((VIDEO, other_ger, GER), "de")[1] == GER


def test_no_match_lists_the_audio_streams():
    with pytest.raises(InputError) as err:
        choose_audio_stream(STREAMS, "ja")
    message = str(err.value)
    assert "'ja'" in message and "0 = eng, aac, 2 ch" in message and "1 = ger, ac3, 6 ch, default" in message
    assert "subrip" not in message and "\n" not in message


def test_index_out_of_range_lists_the_audio_streams():
    with pytest.raises(InputError, match=r"3 audio stream\(s\).*2 = fra"):
        choose_audio_stream(STREAMS, "3")


def test_untagged_streams_never_match_a_language():
    untagged = StreamInfo(1, "audio", "aac", "", 2, 48000)
    with pytest.raises(InputError, match="untagged"):
        choose_audio_stream((VIDEO, untagged), "en")
