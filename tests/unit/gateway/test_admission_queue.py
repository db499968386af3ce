"""The burst queue in front of the adaptive bound, and the guard that uses it.

What is "in flight" is held by the test; slots are handed over by the test's own releases, so
nothing here depends on how fast the machine is. The waits that must run out run on an event
loop whose time is the test's clock (``ClockLoop``).
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Coroutine
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config import Settings
from gateway.context import overload_guards
from gateway.metrics import Metrics
from gateway.overload.limiter import AdaptiveLimit
from gateway.overload.middleware import OverloadGuard
from gateway.overload.queue import AdmissionQueue
from gateway.overload.ratelimit import Rate

T = TypeVar("T")
NEVER_S = 30.0  # a wait that would only end by a bug: the test fails instead of hanging


def queue(
    bound: int,
    service_s: float,
    wait_budget_s: float,
    clock: Clock | None = None,
    burst_window_s: float = 0.0,
) -> AdmissionQueue:
    limit = AdaptiveLimit(initial=bound, budget_s=service_s)
    limit.latency_s = service_s  # as measured
    return AdmissionQueue(
        limit, wait_budget_s, burst_window_s=burst_window_s, clock=clock or Clock()
    )


async def started(waiter: asyncio.Task[bool]) -> None:
    """Let the task run until it waits."""
    for _ in range(3):
        await asyncio.sleep(0)
    assert not waiter.done()


async def test_a_burst_waits_and_is_served_first_come_first_served() -> None:
    slots = queue(bound=2, service_s=1.0, wait_budget_s=100.0)
    assert await slots.acquire() and await slots.acquire()  # the bound, at once
    third, fourth = (asyncio.create_task(slots.acquire()) for _ in range(2))
    await started(third)
    await started(fourth)
    assert len(slots.waiting) == 2 and slots.limit.in_flight == 2
    slots.release(0.5)  # one done: its slot goes to the first waiter
    assert await asyncio.wait_for(third, NEVER_S) and not fourth.done()
    slots.release(0.5)
    assert await asyncio.wait_for(fourth, NEVER_S)
    assert slots.limit.in_flight == 2 and not slots.waiting


async def full_with_a_waiter() -> tuple[Clock, AdmissionQueue, asyncio.Task[bool]]:
    """One slot held, 400 s per analysis, a 1000 s budget, a 1 s burst window, on a test clock:
    the first waiter starts in 400 s and is done in 800 s; a second would start in 800 s, past
    its 600 s deadline, so it is refused."""
    clock = Clock()
    slots = queue(bound=1, service_s=400.0, wait_budget_s=1000.0, clock=clock, burst_window_s=1.0)
    assert await slots.acquire()
    first = asyncio.create_task(slots.acquire())
    await started(first)
    return clock, slots, first


async def test_a_burst_too_big_for_the_budget_keeps_its_waiters_and_refuses_the_excess() -> None:
    clock, slots, first = await full_with_a_waiter()
    clock.now += 0.5  # the rest of the burst, within its window: refused at once, not shed
    assert await asyncio.wait_for(slots.acquire(), NEVER_S) is False
    assert await asyncio.wait_for(slots.acquire(), NEVER_S) is False
    assert len(slots.waiting) == 1 and not slots.shedding and slots.retry_after_s() >= 400
    slots.release(None)
    assert await asyncio.wait_for(first, NEVER_S)  # the waiter is served
    slots.release(None)  # the queue drained: the next refusal starts a new window
    assert await slots.acquire()
    clock.now += 5.0
    later = asyncio.create_task(slots.acquire())
    await started(later)
    assert await asyncio.wait_for(slots.acquire(), NEVER_S) is False
    assert len(slots.waiting) == 1 and not slots.shedding
    later.cancel()


async def test_refusals_outlasting_a_burst_shed_the_queue_until_a_budget_passes_without() -> None:
    clock, slots, first = await full_with_a_waiter()
    assert await asyncio.wait_for(slots.acquire(), NEVER_S) is False  # a burst's excess
    clock.now += 1.0  # refusals still coming a window later: the overload is sustained
    assert await asyncio.wait_for(slots.acquire(), NEVER_S) is False
    assert await asyncio.wait_for(first, NEVER_S) is False  # the waiter is refused too
    assert not slots.waiting and slots.shedding
    clock.now += 999.0  # nobody may wait while shedding, though the queue is empty ...
    assert await asyncio.wait_for(slots.acquire(), NEVER_S) is False
    clock.now += 999.0  # ... and each refusal keeps it shedding for another budget
    assert slots.shedding
    slots.release(None)
    assert await slots.acquire()  # a free slot is still given
    clock.now += 1000.0  # a budget without refusals: the queue takes bursts again
    assert not slots.shedding
    again = asyncio.create_task(slots.acquire())
    await started(again)
    slots.release(None)
    assert await asyncio.wait_for(again, NEVER_S)


def test_a_waiter_past_its_deadline_is_refused_and_leaves_the_queue() -> None:
    clock = Clock()

    async def wait_past_the_deadline() -> None:
        slots = queue(bound=1, service_s=0.05, wait_budget_s=0.2, clock=clock)  # waits 0.15 s
        assert await slots.acquire()
        waiter = asyncio.create_task(slots.acquire())
        await settle()  # it waits from t = 0
        clock.now += 0.14
        await settle()
        assert not waiter.done() and len(slots.waiting) == 1  # still within its deadline
        clock.now += 0.02
        await settle()
        assert waiter.done() and waiter.result() is False
        assert not slots.waiting and slots.limit.in_flight == 1

    run_on(clock, wait_past_the_deadline())


async def test_a_client_gone_while_waiting_gives_back_what_it_was_handed() -> None:
    slots = queue(bound=1, service_s=1.0, wait_budget_s=100.0)
    assert await slots.acquire()
    gone, handed = (asyncio.create_task(slots.acquire()) for _ in range(2))
    await started(gone)
    await started(handed)
    gone.cancel()  # left before any slot was free
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert len(slots.waiting) == 1
    slots.release(0.5)  # the slot is handed to the waiter ...
    handed.cancel()  # ... which is cancelled before it runs again: the slot comes back
    with pytest.raises(asyncio.CancelledError):
        await handed
    assert slots.limit.in_flight == 0 and not slots.waiting


async def test_a_waiter_gone_just_after_it_was_shed_gives_back_nothing() -> None:
    slots = queue(bound=1, service_s=1.0, wait_budget_s=100.0)
    assert await slots.acquire()
    shed = asyncio.create_task(slots.acquire())
    await started(shed)
    slots.limit.latency_s = 400.0  # the next request cannot be served in time: the queue sheds
    assert await slots.acquire() is False
    shed.cancel()  # cancelled before it ran again: it was refused, it holds no slot
    with pytest.raises(asyncio.CancelledError):
        await shed
    assert slots.limit.in_flight == 1 and not slots.waiting


# --- through the guard --------------------------------------------------------------------
def guarded(app: ASGIApp, slots: AdmissionQueue, metrics: Metrics | None = None) -> ASGIApp:
    """The guard in front of ``app``, reading ``slots`` from the app's context as it does."""
    guard = OverloadGuard(app)
    context = SimpleNamespace(
        admission=slots, rate_store=None, rate=Rate(5, 60.0), metrics=metrics or Metrics()
    )
    holder = SimpleNamespace(state=SimpleNamespace(context=context))

    async def with_context(scope: Scope, receive: Receive, send: Send) -> None:
        await guard({**scope, "app": holder}, receive, send)

    return with_context


def scope_for(path: str) -> Scope:
    return {"type": "http", "method": "POST", "path": path, "headers": [], "client": ("h", 1)}


async def run(guard: ASGIApp, path: str) -> tuple[list[Message], int]:
    """The guard's answer, and how many times the body was read."""
    sent: list[Message] = []
    reads = 0

    async def receive() -> Message:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"photo", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await guard(scope_for(path), receive, send)
    return sent, reads


def answering(status: int):
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()  # an endpoint reads its body
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


@pytest.mark.parametrize(("path", "success"), [("/v1/analyses", 201), ("/api/RegisterResult", 200)])
async def test_both_endpoints_successes_feed_the_bound(path: str, success: int) -> None:
    slots = AdmissionQueue(AdaptiveLimit(initial=1), 0.0)
    guard = guarded(answering(success), slots)
    (start, _), reads = await run(guard, path)
    assert start["status"] == success and reads == 1
    assert slots.limit.latency_s is not None  # its latency was counted


async def test_only_an_analysis_nothing_was_admitted_beside_counts_as_alone() -> None:
    slots = AdmissionQueue(AdaptiveLimit(initial=2, budget_factor=2.0), 0.0)
    go = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await go.wait()
        await answering(201)(scope, receive, send)

    guard = guarded(app, slots)
    go.set()
    await asyncio.wait_for(run(guard, "/v1/analyses"), NEVER_S)
    alone = slots.limit.alone_s
    assert alone is not None and slots.limit.latency_budget_s == 2.0 * alone
    go.clear()
    beside = asyncio.create_task(run(guard, "/v1/analyses"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert await slots.acquire()  # another admitted while it runs: it did not run alone
    go.set()
    await asyncio.wait_for(beside, NEVER_S)
    slots.release(None)
    assert slots.limit.alone_s == alone and slots.limit.latency_s != alone


async def test_a_queued_request_is_served_after_a_release_and_the_gauges_say_so() -> None:
    metrics = Metrics()
    slots = queue(bound=1, service_s=1.0, wait_budget_s=100.0)
    metrics.watch_admission(slots)  # as the app's context does
    guard = guarded(answering(201), slots, metrics)
    assert await slots.acquire()  # the one slot is held
    waiting = asyncio.create_task(run(guard, "/v1/analyses"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert metrics.registry.get_sample_value("alphamale_admission_queue") == 1
    assert metrics.registry.get_sample_value("alphamale_admission_shedding") == 0
    slots.release(None)
    (start, _), reads = await asyncio.wait_for(waiting, NEVER_S)
    assert start["status"] == 201 and reads == 1 and slots.limit.in_flight == 0
    assert metrics.registry.get_sample_value("alphamale_admission_queue") == 0


async def test_a_refusal_reads_no_body_and_sheds_the_waiters_unread() -> None:
    metrics = Metrics()
    slots = queue(bound=1, service_s=1.0, wait_budget_s=100.0)
    metrics.watch_admission(slots)  # as the app's context does
    guard = guarded(answering(201), slots, metrics)
    assert await slots.acquire()  # the one slot is held
    waiting = asyncio.create_task(run(guard, "/v1/analyses"))
    for _ in range(5):
        await asyncio.sleep(0)
    slots.limit.latency_s = 400.0  # now a second waiter could not be served in time
    refused, reads = await asyncio.wait_for(run(guard, "/v1/analyses"), NEVER_S)
    assert refused[0]["status"] == 503 and reads == 0  # refused before the body was read
    (shed, _), reads = await asyncio.wait_for(waiting, NEVER_S)
    assert shed["status"] == 503 and reads == 0  # the waiter too, its body never read
    retry = dict(shed["headers"])[b"retry-after"]
    assert int(retry) >= 400 and slots.limit.in_flight == 1
    assert metrics.registry.get_sample_value("alphamale_admission_queue") == 0
    assert metrics.registry.get_sample_value("alphamale_admission_shedding") == 1


async def test_a_slow_drain_measured_while_queued_lengthens_the_expected_wait() -> None:
    clock = Clock()
    slots = AdmissionQueue(AdaptiveLimit(initial=1, budget_s=1.0), 100.0, clock=clock)
    slots.limit.latency_s = 1.0
    assert await slots.acquire()
    waiters = [asyncio.create_task(slots.acquire()) for _ in range(3)]
    for waiter in waiters:
        await started(waiter)
    assert slots.expected_wait_s(2) == 2.0  # by the bound and the latency alone
    slots.release(1.0)  # t = 0: to the first waiter
    clock.now += 10.0
    slots.release(1.0)  # t = 10: a slot every 10 s while queued, though analyses take 1 s
    assert slots.handover_s == 10.0 and slots.expected_wait_s(2) == 20.0
    assert await asyncio.wait_for(waiters[0], NEVER_S) and await asyncio.wait_for(
        waiters[1], NEVER_S
    )
    slots.release(1.0)
    assert await asyncio.wait_for(waiters[2], NEVER_S)
    slots.release(1.0)  # nobody waits: the next queue measures afresh
    assert slots._last_handover is None


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# --- a burst at the default settings, on the test's clock -----------------------------------
ALONE_S = 0.311  # one analysis alone, p50 (README, bench.overload: default settings, idle)
AMONG_THREE_S = 0.6  # one of three at once: the bench's burst of 16 took 3.55 s, ~6 rounds


class ClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose time is the test's clock: a wait runs out only when the test moves
    the clock past it, however slow the machine."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def time(self) -> float:
        return self.clock.now


def run_on(clock: Clock, coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end on a fresh ``ClockLoop`` of ``clock``."""
    loop = ClockLoop(clock)
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


async def settle() -> None:
    """Let every task that can run, run (nothing here waits for anything but the loop)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def serve_a_burst(clock: Clock, size: int, tmp_path: Path) -> tuple[AdmissionQueue, dict]:
    """The queue the app makes of the default settings, one analysis measured alone, then
    ``size`` requests at once, each analysis taking ``AMONG_THREE_S``: when each finished."""
    slots, _ = overload_guards(Settings(var_dir=tmp_path), sessions=None)  # type: ignore[arg-type]
    assert slots is not None
    slots.clock = clock
    assert await slots.acquire()
    clock.now += ALONE_S
    slots.release(ALONE_S, alone=True)  # as the guard measures it
    assert slots.limit.latency_budget_s == pytest.approx(2 * ALONE_S)

    arrived = clock.now
    requests = [asyncio.create_task(slots.acquire()) for _ in range(size)]
    await settle()
    started: set[int] = set()
    running: list[tuple[float, int]] = []  # (when it finishes, which request)
    finished: dict[int, float] = {}  # which request: seconds from the burst's arrival
    while len(finished) < size:
        for index, request in enumerate(requests):
            if request.done() and index not in started:
                assert request.result(), f"request {index + 1} of {size} refused at {clock.now} s"
                started.add(index)
                heapq.heappush(running, (clock.now + AMONG_THREE_S, index))
        assert running, f"{size - len(started)} requests wait, yet none is running"
        clock.now, index = heapq.heappop(running)
        finished[index] = clock.now - arrived
        slots.release(AMONG_THREE_S)
        await settle()
    return slots, finished


@pytest.mark.parametrize("size", [8, 16])
def test_a_burst_at_the_default_settings_is_all_admitted_without_shedding(
    size: int, tmp_path: Path
) -> None:
    """Friends comparing results: 8 or 16 requests at the same moment, on the defaults (bound 3,
    6 s wait budget, 1 s burst window) with an analysis measured alone at the bench's 311 ms.
    Every one is admitted, nobody is shed, and each is answered within the wait budget."""
    clock = Clock()
    slots, finished = run_on(clock, serve_a_burst(clock, size, tmp_path))
    assert len(finished) == size and not slots.shedding
    assert slots.limit.in_flight == 0 and not slots.waiting
    assert max(finished.values()) <= slots.wait_budget_s, sorted(finished.values())
