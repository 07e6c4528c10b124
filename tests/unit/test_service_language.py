"""/detect-language's decoding: the samples of the WAV ffmpeg pipes out (the images' minimal FFmpeg
has no raw s16le muxer) are exactly what a raw s16le decode gives."""

from __future__ import annotations

import subprocess

from host.service.language import wav_samples
from shared.ffmpeg import FFMPEG
from tests.conftest import make_media


def test_wav_samples_from_a_pipe_equal_the_raw_decode(tmp_path):
    media = make_media(tmp_path / "tone.flac", "-f", "lavfi", "-i", "sine=f=440:d=1.5", "-metadata", "title=a tone")
    common = [FFMPEG, "-nostdin", "-loglevel", "error", "-i", str(media), "-vn", "-ac", "1", "-ar", "16000"]
    wav = subprocess.run([*common, "-c:a", "pcm_s16le", "-f", "wav", "-"], capture_output=True, check=True).stdout
    raw = subprocess.run([*common, "-f", "s16le", "-"], capture_output=True, check=True).stdout
    assert len(raw) == 1.5 * 16000 * 2
    assert wav_samples(wav) == raw
    assert wav_samples(b"RIFF\xff\xff\xff\xffWAVEfmt ") == b""  # no data chunk: nothing, never the header
