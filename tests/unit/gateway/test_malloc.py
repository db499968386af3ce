"""The allocator settings and the throttled heap trim (glibc; elsewhere both are no-ops)."""

from __future__ import annotations

import sys

import pytest

from gateway import malloc

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")


@linux_only
def test_the_allocator_settings_apply() -> None:
    assert malloc.limit_heap_growth() is True


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
