"""Per-client request rates: GCRA (the generic cell rate algorithm, a leaky bucket kept as one
timestamp per client) over a memory store (one process) or the database (several processes
or boxes share it).

A client may send ``quota`` requests at once, then one every ``period / quota`` seconds. The
answer carries what the ``RateLimit`` / ``RateLimit-Policy`` headers (IETF httpapi draft) say:
the quota, what remains and when it is whole again.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import rate_limits


@dataclass(frozen=True)
class Decision:
    allowed: bool
    tat: float  # the client's theoretical arrival time after this request
    remaining: int
    retry_after_s: float  # 0 when allowed
    reset_s: float  # until the full quota is available again


@dataclass(frozen=True)
class Rate:
    quota: int
    period_s: float

    @property
    def interval_s(self) -> float:
        return self.period_s / self.quota


def gcra(tat: float | None, now: float, rate: Rate) -> Decision:
    """One request at ``now`` of a client whose stored arrival time is ``tat``."""
    interval = rate.interval_s
    base = now if tat is None else max(tat, now)
    new_tat = base + interval
    allowed_from = new_tat - rate.quota * interval
    if now < allowed_from:
        return Decision(False, base, 0, allowed_from - now, base - now)
    remaining = min(rate.quota, math.floor((now - allowed_from) / interval + 1e-9))
    return Decision(True, new_tat, remaining, 0.0, new_tat - now)


class Store(Protocol):
    async def hit(self, key: str, rate: Rate) -> Decision: ...


class MemoryStore:
    """One process's clients (the local default: no extra service)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.tats: dict[str, float] = {}
        self.lock = asyncio.Lock()

    async def hit(self, key: str, rate: Rate) -> Decision:
        async with self.lock:
            now = self.clock()
            decision = gcra(self.tats.get(key), now, rate)
            if decision.allowed:
                self.tats[key] = decision.tat
            if len(self.tats) > 100_000:  # forget clients whose bucket is full again
                self.tats = {k: t for k, t in self.tats.items() if t > now}
            return decision


class DatabaseStore:
    """Clients shared by every gateway process through the database (row lock per client)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], float] = time.time
    ) -> None:
        self.sessions = sessions
        self.clock = clock

    async def hit(self, key: str, rate: Rate) -> Decision:
        try:
            return await self._hit(key, rate)
        except IntegrityError:  # two first requests of one client raced to insert its row
            return await self._hit(key, rate)

    async def _hit(self, key: str, rate: Rate) -> Decision:
        async with self.sessions() as session, session.begin():
            state = await rate_limits.lock_state(session, key)
            now = self.clock()
            decision = gcra(state.tat if state else None, now, rate)
            if decision.allowed:
                rate_limits.set_tat(session, key, state, decision.tat)
        return decision
