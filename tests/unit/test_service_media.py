"""host/service/media.py: uploads streamed to disk, raw PCM wrapped, library paths confined."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest

from host.service.media import MediaError, library_file, safe_name, store_upload


async def _chunks(data: bytes, size: int = 1000):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def store(data: bytes, tmp_path: Path, max_bytes: int = 1 << 20, raw_pcm: bool = False, name: str = "a.wav"):
    return asyncio.run(store_upload(_chunks(data), name, tmp_path, max_bytes, raw_pcm))


def test_raw_pcm_becomes_a_16k_mono_wav(tmp_path):
    samples = bytes(range(256)) * 125  # 32000 bytes: 1 s
    media = store(samples, tmp_path, raw_pcm=True, name="audio_file")
    assert media.name == "audio_file.wav" and media.path.parent.name == media.sha256
    with wave.open(str(media.path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()) == (16000, 1, 2, 16000)
        assert w.readframes(16000) == samples


def test_too_large_and_empty_leave_nothing(tmp_path):
    with pytest.raises(MediaError) as err:
        store(b"x" * 5000, tmp_path, max_bytes=4000)
    assert err.value.status == 413 and "MAX_UPLOAD_MB" in err.value.reason
    with pytest.raises(MediaError) as err:
        store(b"", tmp_path)
    assert err.value.status == 400
    assert list((tmp_path / "uploads").iterdir()) == []


def test_same_bytes_stored_once(tmp_path):
    a, b = store(b"abcd" * 10, tmp_path), store(b"abcd" * 10, tmp_path)
    assert a.path == b.path and len(list((tmp_path / "uploads").iterdir())) == 1


@pytest.mark.parametrize(("given", "expected"), [("../../etc/passwd", "passwd"), ("C:\\x\\film.mkv", "film.mkv"),
                                                 (".hidden", "hidden"), ("", "audio"), ("Amélie.mp4", "Amelie.mp4")])
def test_safe_name(given, expected):
    assert safe_name(given) == expected


def test_library_paths_are_confined(tmp_path):
    library = tmp_path / "library"
    (library / "show").mkdir(parents=True)
    (library / "show" / "e1.mkv").write_bytes(b"x")
    (tmp_path / "secret.mkv").write_bytes(b"x")
    (library / "link.mkv").symlink_to(tmp_path / "secret.mkv")
    assert library_file("show/e1.mkv", str(library)) == (library / "show" / "e1.mkv").resolve()
    assert library_file(str(library / "show" / "e1.mkv"), str(library)).name == "e1.mkv"
    for bad, status in (("../secret.mkv", 403), (str(tmp_path / "secret.mkv"), 403), ("link.mkv", 403),
                        ("show/none.mkv", 404), ("show", 404)):
        with pytest.raises(MediaError) as err:
            library_file(bad, str(library))
        assert err.value.status == status, bad
    with pytest.raises(MediaError) as err:
        library_file("show/e1.mkv", "")
    assert err.value.status == 403 and "LIBRARY_ROOT" in err.value.reason
