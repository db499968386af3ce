"""A bounded in-process cache of rendered images (cards and stories: gateway.web.rendered)."""

from __future__ import annotations

from collections import OrderedDict


class RenderCache:
    """Rendered PNGs by ETag, least recently used first out, at most ``max_bytes`` in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, bytes] = OrderedDict()

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
