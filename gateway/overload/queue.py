"""A short queue in front of the adaptive bound: a burst waits for a slot, overload is shed.

A request beyond the bound waits, first come first served, when the queue ahead of it will
drain in time: ``ceil(position / bound)`` rounds of the measured service time (the bound's
smoothed latency, its budget before any is measured), or ``position`` times the measured time
between hand-overs while the queue is not empty if that is longer (under a sustained spike the
bound shrinks and analyses slow while a request waits), plus its own analysis, within
``wait_budget_s``. Otherwise it is refused at once, before its body is read (as in Netflix's
concurrency-limits blocking limiter, or Envoy's adaptive concurrency with a queue). A waiter
whose deadline passes is refused then. A freed slot goes straight to the first waiter.

A burst too big for the budget gets its excess refused at once and its waiters served. When
refusals go on for longer than ``burst_window_s`` (longer than a burst takes to arrive) while
the queue has not drained, the overload is sustained, and waiting would only make everyone
slow. The queue then sheds (as Facebook's controlled-delay queue drops to short timeouts while a
queue stands): every waiter is refused at once, and nobody waits, a request gets a free slot or
``503``, until nothing has been refused for a whole ``wait_budget_s``. The admitted ones then
stay as fast as the bound keeps them.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable

from gateway.overload.limiter import AdaptiveLimit


class AdmissionQueue:
    """``await acquire()`` a slot (False: refused), ``release(...)`` it when done."""

    def __init__(
        self,
        limit: AdaptiveLimit,
        wait_budget_s: float,
        *,
        burst_window_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.wait_budget_s = wait_budget_s
        self.burst_window_s = burst_window_s
        self.waiting: deque[asyncio.Future[bool]] = deque()
        self.clock = clock
        self.handover_s: float | None = None  # smoothed time between hand-overs, when queued
        self._last_handover: float | None = None
        self.shedding_until = -math.inf  # the clock's time until which nobody waits
        self._refusing_since: float | None = None  # the first refusal since the queue drained

    @property
    def shedding(self) -> bool:
        """Whether the overload is sustained: requests get a free slot or a refusal."""
        return self.clock() < self.shedding_until

    @property
    def service_s(self) -> float:
        """What one analysis takes now: the smoothed latency, the budget before any."""
        return self.limit.latency_s or self.limit.latency_budget_s

    def expected_wait_s(self, position: int) -> float:
        """How long the ``position``-th waiter (1-based) should wait for its slot."""
        rounds = math.ceil(position / self.limit.bound) * self.service_s
        return max(rounds, position * (self.handover_s or 0.0))

    async def acquire(self) -> bool:
        if not self.waiting and self.limit.try_acquire():
            return True
        deadline_s = self.wait_budget_s - self.service_s  # it must still finish in the budget
        if self.shedding or self.expected_wait_s(len(self.waiting) + 1) > deadline_s:
            self._refused()
            return False
        slot: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.waiting.append(slot)
        try:
            await asyncio.wait({slot}, timeout=deadline_s)
        except asyncio.CancelledError:  # the client went away while waiting
            self._abandon(slot)
            raise
        if slot.done():
            return slot.result()  # handed a slot, or refused by the shedding
        self._abandon(slot)
        return False

    def _refused(self) -> None:
        """A refusal: it keeps the shedding on, or starts it once refusals outlast a burst."""
        now = self.clock()
        if self._refusing_since is None:
            self._refusing_since = now
        if self.shedding or now - self._refusing_since >= self.burst_window_s:
            self._shed(now)

    def _shed(self, now: float) -> None:
        """Refuse every waiter now, and let nobody wait until a budget passes without refusals."""
        self.shedding_until = now + self.wait_budget_s
        self._refusing_since = None
        while self.waiting:
            self.waiting.popleft().set_result(False)

    def _abandon(self, slot: asyncio.Future[bool]) -> None:
        """Leave the queue; a slot handed over in the meantime is given back."""
        if not slot.done():
            slot.cancel()
            self.waiting.remove(slot)
        elif slot.result():
            self.release(None)

    def release(
        self, latency_s: float | None, *, overloaded: bool = False, alone: bool = False
    ) -> None:
        """One admitted analysis finished (see :meth:`AdaptiveLimit.release`); wake waiters."""
        self.limit.release(latency_s, overloaded=overloaded, alone=alone)
        if not self.waiting:  # the queue drained: the next wait and refusal start afresh
            self._last_handover = self._refusing_since = None
            return
        now = self.clock()
        if self._last_handover is not None:
            gap = now - self._last_handover
            self.handover_s = gap if self.handover_s is None else 0.8 * self.handover_s + 0.2 * gap
        self._last_handover = now
        while self.waiting and self.limit.try_acquire():
            self.waiting.popleft().set_result(True)

    def retry_after_s(self) -> int:
        """Seconds a refused client should wait: about the time the queue takes to drain."""
        return max(self.limit.retry_after_s(), math.ceil(self.expected_wait_s(len(self.waiting))))
