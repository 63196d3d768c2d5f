"""A process keeps the memory it frees (glibc's mallopt): actors and `evogan train`,
not the library call. Each case runs in a fresh interpreter, whose malloc is its own."""

import ctypes
import os
import subprocess
import sys

import pytest

from evogan.memory import keep_freed_memory

# Faults of memory freed and touched again, in a fresh process after ``prelude``: a
# 100 MB block (above the former 64 MB bound), and 240 MB of 24 MB blocks freed together
# (a heap top above the former 128 MB). Either costs ~25,000 and ~60,000 faults afresh.
PROBE = """
import ctypes, resource
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def refaults(size, count):
    for again in (False, True):
        blocks, before = [libc.malloc(size) for _ in range(count)], faults()
        for block in blocks:
            ctypes.memset(block, 1, size)
        touched = faults() - before
        for block in blocks:
            libc.free(block)
    return touched
print(refaults(100 * 2**20, 1), refaults(24 * 2**20, 10))
"""
TINY = "population=8, samples_per_agent=8, disc_batch=16, disc_filters=16, progress=False"
PRELUDES = {
    "nothing": "",
    "keep_freed_memory": "from evogan.memory import keep_freed_memory\nkeep_freed_memory()",
    "evogan.evolve": f"import evogan\nevogan.evolve(dataset='digits', generations=1, {TINY})",
    "evogan train": (
        "import sys, tempfile\nfrom evogan.cli import main\n"
        "sys.argv = ['evogan', 'train', '--generations', '1', '--population', '8',"
        " '--samples-per-agent', '8', '--disc-batch', '16', '--disc-filters', '16',"
        " '--no-progress', '--out', tempfile.mkdtemp() + '/run']\nmain()"
    ),
}
KEEPS = {"nothing": False, "keep_freed_memory": True, "evogan.evolve": False, "evogan train": True}


def has_mallopt() -> bool:
    try:
        ctypes.CDLL(None).mallopt  # noqa: B018
    except (OSError, AttributeError):
        return False
    return True


@pytest.mark.skipif(not has_mallopt(), reason="no glibc mallopt here")
@pytest.mark.parametrize("prelude", PRELUDES)
def test_freed_memory_is_kept_only_where_asked(prelude: str) -> None:
    code = PRELUDES[prelude] + "\n" + PROBE
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=os.environ | {"OMP_NUM_THREADS": "1"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    big, top = map(int, done.stdout.split()[-2:])
    if KEEPS[prelude]:
        assert big < 500 and top < 500, (big, top)  # reused as they were
    else:
        assert big > 20_000 and top > 50_000, (big, top)  # back to the system, again


def test_without_mallopt_it_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoMallopt:
        def __init__(self, name: object) -> None:
            pass

    monkeypatch.setattr(ctypes, "CDLL", NoMallopt)
    assert keep_freed_memory() is False
