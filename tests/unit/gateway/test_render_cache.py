"""The render cache: drawings by ETag in a bounded LRU, and the short memo of an image's
current version (a fake clock: no waiting)."""

from __future__ import annotations

from gateway.render_cache import RenderCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_drawings_are_kept_least_recently_used_first_out_within_the_bound() -> None:
    cache = RenderCache(max_bytes=10)
    cache.put('"a"', b"aaaa")
    cache.put('"b"', b"bbbb")
    assert cache.get('"a"') == b"aaaa"  # a is now the most recently used
    cache.put('"c"', b"cccc")  # 12 bytes: the least recently used (b) goes
    assert (cache.get('"a"'), cache.get('"b"'), cache.get('"c"')) == (b"aaaa", None, b"cccc")
    assert cache.size == 8
    cache.put('"huge"', b"x" * 11)  # larger than the bound: never kept
    assert cache.get('"huge"') is None and cache.size == 8


def test_an_images_version_is_remembered_briefly_and_forgotten_on_change() -> None:
    clock = Clock()
    cache = RenderCache(max_bytes=100, memo_s=2.0, clock=clock)
    cache.put('"v1"', b"drawn")
    cache.note("/g/abc/card?lang=en", '"v1"')
    cache.note("/g/xyz/card?lang=en", '"v1"')
    assert cache.current("/g/abc/card?lang=en") == '"v1"'
    clock.now += 2.0
    assert cache.current("/g/abc/card?lang=en") is None  # asked again after memo_s
    cache.note("/g/abc/card?lang=en", '"v1"')
    cache.note("/g/xyz/card?lang=en", '"v1"')
    cache.forget("/g/abc/")  # the group changed through this process
    assert cache.current("/g/abc/card?lang=en") is None
    assert cache.current("/g/xyz/card?lang=en") == '"v1"'
    cache.entries.clear()  # the drawing itself evicted: the memo vouches for nothing
    assert cache.current("/g/xyz/card?lang=en") is None
