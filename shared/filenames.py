"""Output file names that fit the file system, whatever the input was called.

A stage names its files after the input (``<stem>.<lang>.<fmt>``,
``<stem>.subtitled.<ext>``). Most file systems allow 255 *bytes* per name, so
a 245-character film name makes names that cannot be created. :func:`fitted`
keeps a name that fits as it is; a longer one keeps its suffix whole and as
much of the stem as fits, cut at a UTF-8 character boundary, followed by
``~`` and 8 hex digits of the full stem's SHA-256: the same input always gets
the same name, and two long names that share their first 200 bytes still
differ. The full name goes into the stage's manifest.
"""

from __future__ import annotations

import hashlib

__all__ = ["MAX_NAME_BYTES", "fitted", "full_name"]

# 255 bytes (NAME_MAX) less room for the temporary name an atomic write uses beside the
# file (shared/fsio.py: ".<name>.<8 random>.tmp", 14 bytes more) and a margin
MAX_NAME_BYTES = 236
HASH_CHARS = 8


def _cut_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding has at most ``max_bytes`` bytes."""
    return text.encode("utf-8")[:max(0, max_bytes)].decode("utf-8", errors="ignore")


def fitted(stem: str, suffix: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """``stem + suffix`` when it fits in ``max_bytes`` bytes of UTF-8; else the stem shortened
    (``<start of stem>~<hash>``) so that it does, the suffix (``.en.srt``) kept whole.
    Raises ValueError when not even the suffix and the hash fit."""
    name = stem + suffix
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    tag = "~" + hashlib.sha256(stem.encode("utf-8", errors="surrogatepass")).hexdigest()[:HASH_CHARS]
    room = max_bytes - len((tag + suffix).encode("utf-8"))
    if room < 1:
        raise ValueError(f"the suffix {suffix!r} leaves no room for a name within {max_bytes} bytes")
    return _cut_utf8(stem, room).rstrip(". ") + tag + suffix


def full_name(stem: str, suffix: str, name: str) -> str:
    """What a manifest records beside ``name``: the full name when it was shortened, else ""."""
    return "" if name == stem + suffix else stem + suffix
