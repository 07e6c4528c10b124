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

__all__ = ["peak_rss_mb", "own_peak_rss_mb"]

STATUS = Path("/proc/self/status")


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
