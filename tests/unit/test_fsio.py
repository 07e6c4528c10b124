import os

import pytest

from shared.fsio import atomic_write_text, sha256_file, sha256_tree


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
    (tmp_path / "m.py").write_text("print(1)")
    tree = sha256_tree(tmp_path)
    (tmp_path / "m.py").write_text("print(2)")
    assert sha256_tree(tmp_path) != tree
