"""Keep the gateway's heap from growing with big photos (glibc's allocator; elsewhere a no-op).

A decoded phone photo is a ~9 MB buffer. glibc serves such buffers with mmap at first, but
raises its mmap threshold after each free, so later ones come from the heap's arenas and stay
resident when freed (measured: 393 MB RSS after 200 12 MP requests). A fixed 1 MB threshold
returns every large buffer to the system when it is freed, and two arenas bound the rest.
What small allocations leave free inside the heap is handed back by :func:`release_free_memory`
after an analysis (``malloc_trim``, at most once a second).
"""

from __future__ import annotations

import ctypes
import sys
from functools import cache
from time import monotonic

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8


@cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def limit_heap_growth(mmap_threshold: int = 1 << 20, arenas: int = 2) -> bool:
    """Apply the allocator settings; False where glibc's ``mallopt`` is not there."""
    if (libc := _libc()) is None:
        return False
    try:
        settings = (
            (M_MMAP_THRESHOLD, mmap_threshold),
            (M_TRIM_THRESHOLD, 2 * mmap_threshold),
            (M_ARENA_MAX, arenas),
        )
        return all(libc.mallopt(option, value) == 1 for option, value in settings)
    except AttributeError:
        return False


_last_trim = 0.0


def release_free_memory(min_interval_s: float = 1.0) -> bool:
    """Return the heap's free pages to the system (glibc ``malloc_trim``); throttled."""
    global _last_trim
    now = monotonic()
    if now - _last_trim < min_interval_s or (libc := _libc()) is None:
        return False
    _last_trim = now
    try:
        return bool(libc.malloc_trim(0))
    except AttributeError:
        return False
