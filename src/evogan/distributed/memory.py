"""An actor's process keeps the memory it frees, instead of faulting it in again.

Scoring a population allocates the same large buffers group after group (the
generator's activations for 500 images). glibc hands a freed block above its
mmap threshold, and a heap top beyond its trim threshold, back to the system,
so the next group's buffers are faulted in and zeroed again, 4 KiB at a time.
A long-lived driver had raised both thresholds as it freed (glibc adapts them),
a fresh Ray worker had not: a lone actor scoring the article's population
(1000 agents) faulted 225,000 pages a call and took 5.7 s where the driver
took 3.4 s; with these thresholds it faulted none and took 3.3-3.5 s.
Fixed thresholds in the actor's own process keep those buffers; the driver's
process is the caller's and is left alone. Without glibc's ``mallopt`` this
does nothing.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
# Blocks up to this size come from the heap and freed ones stay there: above the
# scoring buffers, below a shard of genomes (177 MB at the article's size on 2 workers)
KEEP_BYTES = 64 * 1024**2


def keep_freed_memory(nbytes: int = KEEP_BYTES) -> bool:
    """Have this process' malloc keep freed blocks up to ``nbytes`` (and a heap top up to
    twice that) for reuse; whether it could (glibc only)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, nbytes)) and bool(mallopt(M_TRIM_THRESHOLD, 2 * nbytes))


__all__ = ["KEEP_BYTES", "keep_freed_memory"]
