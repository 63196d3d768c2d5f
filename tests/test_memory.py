"""An actor's process keeps the memory it frees (glibc's mallopt)."""

import ctypes
import resource

import pytest
import torch

from evogan.distributed.memory import keep_freed_memory


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def test_freed_buffers_are_reused_not_faulted_in_again():
    try:
        ctypes.CDLL(None).mallopt  # noqa: B018
    except AttributeError:
        pytest.skip("no glibc mallopt here")
    assert keep_freed_memory(64 * 1024**2)
    # 40 MB: above the 32 MB up to which glibc's own threshold adapts, so without the
    # call each buffer is mapped afresh and faulted in (10 buffers: 100,000 faults)
    pages = 10 * 1024**2 * 4 // 4096
    for _ in range(3):  # the heap grows to hold one
        torch.empty(10 * 1024**2).fill_(1.0)
    before = faults()
    for _ in range(10):
        torch.empty(10 * 1024**2).fill_(1.0)
    assert faults() - before < 3 * pages
