"""Rows that own a stored object (an analysis's photo, a catalog image): either both exist or
neither. The object is written first, then the row; the object is removed again if the row fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.clients.storage import Storage, stored_object


@asynccontextmanager
async def object_then_row(
    storage: Storage,
    sessions: async_sessionmaker[AsyncSession],
    key: str,
    data: bytes,
    content_type: str,
    on_orphan: Callable[[], None],
) -> AsyncIterator[AsyncSession]:
    """Store the object at ``key``, then give a session for its row, committed after the block.

    The block adds the row; if the block or the commit raises, the object is deleted again and
    the exception propagates unchanged (``on_orphan`` is called when even that delete fails).
    """
    async with stored_object(storage, key, data, content_type, on_orphan), sessions() as session:
        yield session
        await session.commit()
