"""A process that keeps the memory it frees, instead of faulting it in again.

Scoring a population allocates the same large buffers group after group, and
a generation the same population-sized tensors (354 MB at the article's
size). glibc hands a freed block above its mmap threshold back to the system,
and the free top of its heap beyond the trim threshold, so the next buffers
are faulted in and zeroed again, 4 KiB at a time. A fresh Ray worker scoring
the article's population (1000 agents) faulted 225,000 pages a call and took
5.7 s where the driver took 3.4 s. A 64 MB bound (heap top kept up to 128 MB)
did not hold: one run's actor faulted 342,000 pages a generation again. With
glibc's defaults a generation's heap grew in 23 MB steps to 240 MB and went
back at its end (a probe at population 200), and the population tensor itself
is mapped afresh. With 1 GiB (heap top kept up to 2 GiB) the probe faulted
no page a generation from the third on.

The cost is memory: a process stays at its peak instead of shrinking between
generations. So the Ray actors (their own processes) and ``evogan train`` (the
command's own process) call this; the library call ``evogan.evolve`` leaves
its caller's malloc alone. Set by ``mallopt`` at the start of the process'
work: the same thresholds through ``GLIBC_TUNABLES`` in an actor's
``runtime_env`` cost a worker of its own (2.4 s more to start) and still
refaulted blocks of 50-300 MB in a probe. Without glibc this does nothing.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
INT_MAX = 2**31 - 1  # mallopt takes a C int (a larger one wraps round, unchecked)
# Blocks up to this size come from the heap and freed ones stay there: above the
# population tensor at the article's size (354 MB) and every scoring buffer
KEEP_BYTES = 1024**3


def keep_freed_memory(nbytes: int = KEEP_BYTES) -> bool:
    """Have this process' malloc keep freed blocks up to ``nbytes`` (and a heap top up to
    twice that) for reuse; whether it could (glibc only)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    kept_top = bool(mallopt(M_TRIM_THRESHOLD, min(2 * nbytes, INT_MAX)))  # alone, it helps too
    return bool(mallopt(M_MMAP_THRESHOLD, min(nbytes, INT_MAX))) and kept_top


__all__ = ["KEEP_BYTES", "keep_freed_memory"]
