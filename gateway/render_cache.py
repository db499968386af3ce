"""A bounded in-process cache of rendered images (cards and stories: gateway.web.rendered),
and a short memo of which version a page's image is now (a hot invite link: many views a
second, one database read per couple of seconds)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class RenderCache:
    """Rendered PNGs by ETag, least recently used first out, at most ``max_bytes`` in all."""

    def __init__(
        self, max_bytes: int, memo_s: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, bytes] = OrderedDict()
        self.memo_s = memo_s
        self.clock = clock
        self.versions: dict[str, tuple[str, float]] = {}  # image address -> (ETag, when)

    def current(self, address: str) -> str | None:
        """The ETag the image at ``address`` had less than ``memo_s`` ago, if its drawing is
        still here: what it shows now, give or take those seconds."""
        known = self.versions.get(address)
        if known is None or self.clock() - known[1] >= self.memo_s or known[0] not in self.entries:
            return None
        return known[0]

    def forget(self, prefix: str = "") -> None:
        """What this process just changed: the images at addresses starting with ``prefix``
        are asked for their version again (changes made through other processes are seen
        within ``memo_s``)."""
        for address in [a for a in self.versions if a.startswith(prefix)]:
            del self.versions[address]

    def note(self, address: str, etag: str) -> None:
        if len(self.versions) > 10_000:  # addresses seen once in a while: start afresh
            self.versions.clear()
        self.versions[address] = (etag, self.clock())

    def get(self, etag: str) -> bytes | None:
        data = self.entries.get(etag)
        if data is not None:
            self.entries.move_to_end(etag)
        return data

    def put(self, etag: str, data: bytes) -> None:
        if len(data) > self.max_bytes or etag in self.entries:
            return
        self.entries[etag] = data
        self.size += len(data)
        while self.size > self.max_bytes:
            _, dropped = self.entries.popitem(last=False)
            self.size -= len(dropped)
