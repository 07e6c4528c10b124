"""host/service/watch.py: which files are taken, when, and how their subtitles are named."""

from __future__ import annotations

import os

from host.service.executor import NativeExecutor
from host.service.options import WatchOptions
from host.service.watch import Watcher, has_subtitle, sidecar_path


def test_sidecar_names_media_servers_read(tmp_path):
    assert sidecar_path(tmp_path / "Film (2001).mkv", "en").name == "Film (2001).en.srt"
    assert sidecar_path(tmp_path / "x.mp4", "eng").name == "x.en.srt"


def test_existing_subtitles_in_the_language(tmp_path):
    media = tmp_path / "film.mkv"
    media.write_bytes(b"x")
    assert not has_subtitle(media, "en")
    (tmp_path / "film.de.srt").write_text("x")
    (tmp_path / "film.2.en.srt.bak").write_text("x")
    assert not has_subtitle(media, "en")
    (tmp_path / "film.eng.forced.ass").write_text("x")
    assert has_subtitle(media, "en") and has_subtitle(media, "de") and not has_subtitle(media, "fr")


def test_a_file_is_taken_once_its_size_is_stable(tmp_path):
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "a.mkv").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    growing = tmp_path / "growing.mkv"
    growing.write_bytes(b"x" * 10)
    executor = NativeExecutor(tmp_path / "jobs", tmp_path / "logs")
    try:
        watcher = Watcher(tmp_path, executor, tmp_path / "jobs", WatchOptions(stable_s=5))
        assert watcher.pending(now=100.0) == ([], [growing])
        assert watcher.pending(now=104.0) == ([], [growing])
        with open(growing, "ab") as f:
            f.write(b"more")
        os.utime(growing, ns=(1, 1))
        assert watcher.pending(now=106.0) == ([], [growing])  # changed: the clock starts again
        assert watcher.pending(now=111.0) == ([growing], [])
        (tmp_path / "growing.en.srt").write_text("x")
        assert watcher.pending(now=200.0) == ([], [])
    finally:
        executor.close()
