"""stages/demux/dialogue.py: AUDIO_DIALOGUE picks the centre channel of a film mix when it carries
speech, the downmix otherwise; the choice is measured on the real channel with ffmpeg."""

from pathlib import Path

import numpy as np
import pytest

from shared.errors import InputError
from stages.demux import dialogue
from tests.conftest import make_media

EVAL = Path(__file__).resolve().parents[2].parent / "shared" / "eval-data" / "jfk.flac"
WINDOW = int(dialogue.WINDOW_S / dialogue.FRAME_S)


def never(channel):
    raise AssertionError("the centre should not be measured")


def test_speech_windows_tell_words_from_a_held_tone_and_from_silence():
    words = np.tile(np.r_[np.full(20, -20.0), np.full(10, -60.0)], 40)  # syllables and pauses
    held = np.full(1200, -20.0)
    silence = np.full(1200, -90.0)
    assert dialogue.speech_windows(words, WINDOW) == (12, 12)
    assert dialogue.speech_windows(held, WINDOW) == (12, 0)
    assert dialogue.speech_windows(silence, WINDOW) == (0, 0)


def test_auto_takes_the_centre_only_when_it_carries_speech():
    speaking = dialogue.choose("auto", "5.1", 6, lambda channel: (50, 40))
    assert speaking.source == "center" and speaking.pan == "pan=mono|c0=c2"
    music = dialogue.choose("auto", "5.1", 6, lambda channel: (50, 3))
    assert music.source == "downmix" and music.pan and "c2" in music.pan and "0.707*c2" in music.pan
    assert dialogue.choose("auto", "stereo", 2, never) == dialogue.Choice(None, "downmix", "no centre channel in stereo")


def test_a_mono_track_is_taken_as_it_is():
    """ffmpeg names a mono track's one channel FC: there is no centre to choose, nothing to measure
    (measuring it made every mono input need the s16le muxer, which the images' FFmpeg lacked)."""
    assert dialogue.centre_index("mono", 1) is None
    assert dialogue.choose("auto", "mono", 1, never).source == "downmix"


def test_center_and_downmix_are_what_they_say():
    assert dialogue.choose("center", "7.1", 8, never).pan == "pan=mono|c0=c2"
    assert dialogue.choose("downmix", "5.1", 6, never).source == "downmix"
    with pytest.raises(InputError, match="no centre channel"):
        dialogue.choose("center", "stereo", 2, never)


@pytest.mark.skipif(not EVAL.is_file(), reason="needs ../shared/eval-data/jfk.flac")
def test_the_centre_of_a_real_five_one_file_is_measured(tmp_path):
    # jfk in the centre and a steady chord in the fronts: speech found; the chord alone in the centre: none
    def five_one(name, centre):
        return make_media(tmp_path / name, "-i", str(EVAL), "-f", "lavfi", "-i", "sine=f=220:d=11:sample_rate=48000",
                          "-filter_complex", f"[0:a]pan=mono|c0=c0,aresample=48000[v];[1:a]asplit=5[a][b][c][d][e];"
                          f"[a][b]{'[v]' if centre else '[c]'}[d][e]{'[c]' if centre else '[v]'}"
                          "join=inputs=6:channel_layout=5.1:map=0.0-FL|1.0-FR|2.0-FC|3.0-LFE|4.0-BL|5.0-BR[out]", "-map", "[out]", "-c:a", "flac")
    levels = dialogue.centre_levels_db(five_one("speech.mka", True), 0, 2)
    loud, speech = dialogue.speech_windows(levels, WINDOW)
    assert loud >= 8 and speech / loud >= dialogue.MIN_SPEECH_WINDOWS
    levels = dialogue.centre_levels_db(five_one("tone.mka", False), 0, 2)
    loud, speech = dialogue.speech_windows(levels, WINDOW)
    assert loud >= 8 and speech / loud < dialogue.MIN_SPEECH_WINDOWS
