"""The per-client rate store's rows: one theoretical arrival time (tat) per client key (a keyed
hash of the address, never the address).

``lock_state`` and ``set_tat`` belong in one transaction of the caller: lock the client's row,
decide, store. A row whose arrival time has passed says no more than a missing row (the client
has its whole allowance again): the purge deletes those (``delete_expired``).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import RateLimitState


async def lock_state(session: AsyncSession, key: str) -> RateLimitState | None:
    """The client's row, locked until the transaction ends; None for a new client."""
    return await session.scalar(
        select(RateLimitState).where(RateLimitState.key == key).with_for_update()
    )


def set_tat(session: AsyncSession, key: str, state: RateLimitState | None, tat: float) -> None:
    """Store the client's new arrival time: update its row, or add one for a new client.

    Two first requests of one client can race to add the row: the commit then raises
    ``IntegrityError``.
    """
    if state is None:
        session.add(RateLimitState(key=key, tat=tat))
    else:
        state.tat = tat


async def delete_expired(session: AsyncSession, now: float) -> int:
    """Delete the rows whose arrival time has passed; how many went."""
    result = await session.execute(delete(RateLimitState).where(RateLimitState.tat < now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
