import os
import stat

import pytest

from shared.fsio import atomic_write_text, file_mode, sha256_file


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temporary left


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    atomic_write_text(target, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_hashes_follow_content(tmp_path):
    a = tmp_path / "a"
    a.write_bytes(b"x" * (3 << 20))
    first = sha256_file(a)
    a.write_bytes(b"x" * (3 << 20) + b"y")
    assert sha256_file(a) != first


@pytest.fixture
def umask():
    """Set the process umask for one test; the old one is restored after it."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o002, 0o664)])
def test_published_files_follow_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    target = tmp_path / "film.en.srt"
    atomic_write_text(target, "1\n")
    assert file_mode() == mode
    assert stat.S_IMODE(target.stat().st_mode) == mode  # not mkstemp's 0600
    atomic_write_text(target, "2\n")  # replacing keeps it so
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_folder_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    events = []
    real_replace, real_fsync = os.replace, os.fsync

    def replace(src, dst):
        events.append(("replace", os.path.basename(dst)))
        real_replace(src, dst)

    def fsync(fd):
        events.append(("fsync", "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"))
        real_fsync(fd)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "fsync", fsync)
    atomic_write_text(tmp_path / "out.txt", "x")
    assert events == [("fsync", "file"), ("replace", "out.txt"), ("fsync", "folder")]
