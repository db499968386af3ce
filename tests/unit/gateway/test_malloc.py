"""The allocator settings and the throttled heap trim (glibc; elsewhere both are no-ops).

``mallopt`` has no getter and no undo (a fixed mmap threshold ends glibc's dynamic one for the
life of the process), so the settings are applied and measured in a child process, never in
the test process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway import malloc

ROOT = Path(__file__).parents[3]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")

# Allocates, frees and allocates again a 1.5 MB block, then prints how many blocks glibc serves
# with mmap while the second one is held. By default glibc raises its mmap threshold when the
# first is freed, so the second comes from the heap (0); with the 1 MB threshold it is mmapped (1).
MMAPPED_AFTER_A_FREE = """
import ctypes, sys

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd",
        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
    )]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "limited":
    from gateway import malloc
    assert malloc.limit_heap_growth() is True
size = 3 << 19
libc.free(libc.malloc(size))
before = libc.mallinfo2().hblks
held = libc.malloc(size)
print(libc.mallinfo2().hblks - before)
libc.free(held)
"""


def mmapped_after_a_free(mode: str) -> int:
    """What ``MMAPPED_AFTER_A_FREE`` prints in a fresh interpreter (``limited`` applies ours)."""
    done = subprocess.run(
        [sys.executable, "-c", MMAPPED_AFTER_A_FREE, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


@linux_only
def test_the_allocator_settings_apply() -> None:
    """With the settings a freed big buffer does not make the next one a heap buffer."""
    assert mmapped_after_a_free("default") == 0  # glibc's dynamic threshold, as measured
    assert mmapped_after_a_free("limited") == 1


@linux_only
def test_the_trim_runs_at_most_once_per_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(malloc, "_last_trim", 0.0)
    clock = iter([1000.0, 1000.5, 1001.2])
    monkeypatch.setattr(malloc, "monotonic", lambda: next(clock))
    calls: list[int] = []

    class Libc:
        def malloc_trim(self, pad: int) -> int:
            calls.append(pad)
            return 1

    monkeypatch.setattr(malloc, "_libc", lambda: Libc())
    assert malloc.release_free_memory() is True  # first: trims
    assert malloc.release_free_memory() is False  # 0.5 s later: throttled
    assert malloc.release_free_memory() is True  # 1.2 s after the first: trims again
    assert calls == [0, 0]


def test_without_glibc_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(malloc, "_last_trim", 0.0)
    monkeypatch.setattr(malloc, "_libc", lambda: None)
    assert malloc.limit_heap_growth() is False
    assert malloc.release_free_memory() is False
