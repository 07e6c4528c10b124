"""The peak memory of this process: its own, not the process that started it.

``getrusage(RUSAGE_SELF).ru_maxrss`` survives ``fork``/``exec``: a stage started by
a runner that had grown to 750 MB reports at least 750 MB whatever it does
itself. The kernel's high-water mark of this process's own address space
(``VmHWM`` in ``/proc/self/status``) starts afresh at ``exec``, so a stage
measured by it reports its own peak. Where ``/proc`` is missing (macOS) the
resource module's figure is the best there is.
"""

from __future__ import annotations

import resource
from pathlib import Path

__all__ = ["peak_rss_mb", "own_peak_rss_mb", "return_freed_memory"]

STATUS = Path("/proc/self/status")


_LIBC: list = []  # glibc, once looked up ([None] where there is none)


def return_freed_memory() -> None:
    """Hand memory the process has freed back to the system (glibc's ``malloc_trim``): a loop
    that allocates arrays of ever-changing sizes otherwise keeps the freed pages in its heap,
    and the resident memory grows with the number of iterations. A no-op without glibc."""
    if not _LIBC:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("c")
        try:
            libc = ctypes.CDLL(name) if name else None
            _LIBC.append(libc if libc is not None and hasattr(libc, "malloc_trim") else None)
        except OSError:
            _LIBC.append(None)
    if _LIBC[0] is not None:
        _LIBC[0].malloc_trim(0)


def own_peak_rss_mb(status: Path = STATUS) -> float:
    """This process's own peak resident memory in MB (VmHWM), not inherited from its parent."""
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux; the fallback


def peak_rss_mb() -> float:
    """The stage's peak: its own process or its largest waited-for child (ffmpeg), whichever
    peaked higher. A child's figure never includes the runner: ``RUSAGE_CHILDREN`` counts only
    children of this process, and they start from this process's memory, not the runner's."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return max(own_peak_rss_mb(), children)
