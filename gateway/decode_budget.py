"""A bound on the pixels being decoded at once in one gateway process.

A 40 MP PNG decodes in full (about 150 MB, more while it is converted): eight at once took a
gateway from 96 to 695 MB. Each decode first asks for its pixels (known from the header:
:func:`gateway.imaging.decoded_pixels`) and waits while others hold the budget; one image always
may go alone, so nothing the limits accept is ever refused here. Phone JPEGs decode at a reduced
DCT scale (~2.5 MP each): many fit at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class DecodeBudget:
    """At most ``capacity`` pixels decoding at once (0: no bound)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self.changed = asyncio.Condition()

    def fits(self, pixels: int) -> bool:
        return self.used == 0 or self.used + pixels <= self.capacity

    @asynccontextmanager
    async def hold(self, pixels: int) -> AsyncIterator[None]:
        """Wait until ``pixels`` fit, hold them for the block, then give them back."""
        if self.capacity <= 0:
            yield
            return
        async with self.changed:
            await self.changed.wait_for(lambda: self.fits(pixels))
            self.used += pixels
        try:
            yield
        finally:
            async with self.changed:
                self.used -= pixels
                self.changed.notify_all()
