"""File primitives: content hashes and atomic writes.

Every file a stage publishes is written under a temporary name in the same
folder and renamed into place, so a reader sees the old file or the new one,
never half of either. Published files get the usual permissions (0666 less
the process umask: 0644 by default), not the temporary file's private 0600,
so a media server running as another user can read the subtitles; the folder
is fsynced after the rename, so the new name survives a power cut too."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

_CHUNK_BYTES = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks (constant memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _umask() -> int:
    """The process umask. Linux reports it in /proc without changing it; elsewhere it is
    read by setting it and back, to 077 meanwhile so a file another thread creates in
    that instant is only more private, never less."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The permissions of a published file: what ``open(path, "w")`` would give it (0666 less the umask)."""
    return 0o666 & ~_umask()


def fsync_dir(folder: Path) -> None:
    """Make renames and removals in ``folder`` durable. Filesystems that cannot fsync a
    folder (EINVAL, ENOTSUP) keep the names they have; other errors are raised."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), file_mode())  # mkstemp's 0600 would stay with the file through the rename
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def dumps_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, dumps_json(data))


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def read_user_json(path: Path, what: str) -> Any:
    """A JSON file a person wrote (a config, metadata): its contents, or InputError with one line
    naming the file and the fault (missing, a folder, not UTF-8, not JSON, a number too long to
    read, nested too deeply), never a traceback."""
    from shared.errors import InputError  # errors imports nothing; kept local so fsio stays a leaf

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{what} {path} is a folder, not a file") from None
    except UnicodeDecodeError:
        raise InputError(f"{what} {path} is not UTF-8 text") from None
    except OSError as err:
        raise InputError(f"cannot read {what} {path}: {err.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{what} {path} is not valid JSON: {err.msg} at line {err.lineno}") from None
    except RecursionError:
        raise InputError(f"{what} {path} is nested too deeply to read") from None
    except ValueError as err:  # e.g. an integer beyond Python's 4300-digit limit
        raise InputError(f"{what} {path} holds a number too long to read ({str(err)[:60]})") from None
