"""The media a job reads: uploads streamed to disk and hashed, raw PCM wrapped
into WAV, files under the library root, checked before any job exists.

An upload lands in ``<data_dir>/uploads/<sha256>/<safe name>`` (the job reads
its media from there, so it stays while the job does); a half-received one
never leaves a file behind. Names never choose a folder: a client's file name
is reduced to a plain name, a library path must resolve (symbolic links
followed) inside the library root.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from shared.ffmpeg import ffprobe

__all__ = ["MediaError", "StoredMedia", "check_media", "library_file", "safe_name", "store_upload"]

CHUNK_BYTES = 1 << 20
PCM_RATE_HZ = 16000  # what Bazarr sends with encode=false: 16 kHz mono signed 16-bit little-endian
PCM_SAMPLE_BYTES = 2


class MediaError(ValueError):
    """Media a job cannot use; ``status`` is the HTTP status the API answers with."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class StoredMedia:
    path: Path
    name: str  # the client's name, made safe: what the response file is named after
    sha256: str
    size_bytes: int


def safe_name(name: str | None, default: str = "audio") -> str:
    """A plain file name from a client's: no folders, no leading dot, ASCII letters, digits, ``._- ``."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip(" .")
    return base[:120] or default


async def store_upload(chunks: AsyncIterator[bytes], name: str | None, data_dir: Path, max_bytes: int,
                       raw_pcm: bool = False) -> StoredMedia:
    """Stream an upload to disk, hashing it; ``raw_pcm``: the bytes are 16 kHz mono s16le
    samples, stored as a WAV. Raises MediaError (413 beyond ``max_bytes``, 400 when empty)."""
    uploads = data_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    fd, partial_name = tempfile.mkstemp(prefix=".partial-", dir=uploads)
    partial = Path(partial_name)
    received = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                received += len(chunk)
                if received > max_bytes:
                    raise MediaError(413, f"the upload is larger than the service's limit of {max_bytes // (1 << 20)} MB "
                                          "(MAX_UPLOAD_MB); send a smaller file or ask the operator to raise it")
                out.write(chunk)
        if received == 0:
            raise MediaError(400, "the uploaded file is empty (0 bytes); send the media file's contents")
        name = safe_name(name)
        if raw_pcm:
            if received % PCM_SAMPLE_BYTES:
                raise MediaError(400, "encode=false expects raw 16-bit PCM, but the upload has an odd number of bytes; "
                                      "send 16 kHz mono s16le samples, or encode=true for a media file")
            partial = _wrap_pcm(partial)
            name = name.rsplit(".", 1)[0] + ".wav" if "." in name else name + ".wav"
        digest = _sha256(partial)
        folder = uploads / digest
        folder.mkdir(exist_ok=True)
        target = folder / name
        if target.is_file():
            partial.unlink()
        else:
            os.replace(partial, target)
        return StoredMedia(target, name, digest, target.stat().st_size)
    finally:
        partial.unlink(missing_ok=True)


def _wrap_pcm(raw: Path) -> Path:
    """The raw samples in ``raw`` as a WAV beside it (``raw`` removed)."""
    wav = raw.with_name(raw.name + ".wav")
    with open(raw, "rb") as src, wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(PCM_SAMPLE_BYTES)
        out.setframerate(PCM_RATE_HZ)
        while block := src.read(CHUNK_BYTES):
            out.writeframes(block)
    raw.unlink()
    return wav


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def check_media(path: Path) -> None:
    """MediaError 415 unless ffprobe finds an audio stream (a text file, an image, a truncated file)."""
    code, data, last = ffprobe(path, "streams", timeout_s=60)
    if code != 0 or not any(s.get("codec_type") == "audio" for s in data.get("streams", [])):
        why = f" ({last})" if code != 0 and last else ""
        raise MediaError(415, f"the file has no audio stream ffmpeg can read{why}; send a video or audio file "
                              "(or raw 16 kHz mono s16le PCM with encode=false)")


def library_file(relative: str, library_root: str) -> Path:
    """A media file named relative to the library root; MediaError 403/404 when it is not one."""
    if not library_root:
        raise MediaError(403, "this service reads no library paths (LIBRARY_ROOT is not set); upload the file instead")
    root = Path(library_root).expanduser().resolve()
    given = Path(relative).expanduser()
    if ".." in given.parts:
        raise MediaError(403, f"{relative!r} leaves the library ('..'); give a path under LIBRARY_ROOT")
    if given.is_absolute():
        path = given.resolve()
        if not path.is_relative_to(root):
            raise MediaError(403, f"{relative!r} is outside the library; give a path under LIBRARY_ROOT")
    else:
        path = (root / given).resolve()
        if not path.is_relative_to(root):
            raise MediaError(403, f"{relative!r} leads outside the library (a symbolic link); give a path under LIBRARY_ROOT")
    if not path.is_file():
        raise MediaError(404, f"no file {relative!r} in the library")
    return path


def remove_upload(media: StoredMedia) -> None:
    """Forget an upload no job uses (a rejected request)."""
    shutil.rmtree(media.path.parent, ignore_errors=True)
