"""Rows that own stored objects (an analysis's photos, a catalog image): either all exist or
none. The objects are written first, then the row; the objects are removed again if the row
fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.clients.storage import Storage, stored_object


@dataclass(frozen=True)
class NewObject:
    key: str
    data: bytes
    content_type: str


@asynccontextmanager
async def objects_then_row(
    storage: Storage,
    sessions: async_sessionmaker[AsyncSession],
    objects: Sequence[NewObject],
    on_orphan: Callable[[], None],
) -> AsyncIterator[AsyncSession]:
    """Store the objects, then give a session for their row, committed after the block.

    The block adds the row; if storing, the block or the commit raises, every object stored is
    deleted again and the exception propagates unchanged (``on_orphan`` is called for each
    one that even that delete fails on).
    """
    async with AsyncExitStack() as stack:
        for item in objects:
            await stack.enter_async_context(
                stored_object(storage, item.key, item.data, item.content_type, on_orphan)
            )
        async with sessions() as session:
            yield session
            await session.commit()


def object_then_row(
    storage: Storage,
    sessions: async_sessionmaker[AsyncSession],
    key: str,
    data: bytes,
    content_type: str,
    on_orphan: Callable[[], None],
) -> AbstractAsyncContextManager[AsyncSession]:
    """:func:`objects_then_row` of one object."""
    return objects_then_row(storage, sessions, [NewObject(key, data, content_type)], on_orphan)
