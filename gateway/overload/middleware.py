"""The guard in front of the analysis endpoints: per-client rates, then admission, before any
byte of the body is read. Group starts and joins count against the same per-client rate (one
budget per client) but not against admission: they ask no model anything.

A client over its rate gets ``429 rate_limited`` at once. When the analyses in flight reach the
adaptive bound, a request waits in a short queue if it will still be served within the wait
budget (:mod:`gateway.overload.queue`), else gets ``503 overloaded`` at once (and so do the
waiters, once the overload is sustained); both refusals carry ``Retry-After``. Admitted analyses
(201, and the legacy endpoint's 200) report their latency back to the bound, and whether they
ran alone (:mod:`gateway.overload.limiter`). Every answer of a guarded endpoint carries the
``RateLimit-Policy`` and ``RateLimit`` headers (IETF httpapi draft); who a client is, and those
headers, are :mod:`gateway.overload.clients`'s.

The guard reads what it works with from the app's context (made by the lifespan, after the
middleware is built): the bound, the rate and its store, the metrics. Before there is a context,
nothing is limited.
"""

from __future__ import annotations

import re
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import AppError, Overloaded
from gateway.metrics import Metrics
from gateway.overload.clients import rate_limited, spend
from gateway.overload.queue import AdmissionQueue
from gateway.problems import problem_response

GUARDED = {("POST", "/v1/analyses"), ("POST", "/api/RegisterResult")}  # rate, then admission
RATED = re.compile(r"/v1/groups(/[^/]+/members)?/?")  # POST: the rate only
SUCCESS = {"/v1/analyses": 201, "/api/RegisterResult": 200}  # an analysis done: its latency counts


def guard_of(scope: Scope) -> str | None:
    """ "analysis" (rate and admission), "group" (the rate only) or None (not guarded)."""
    if scope["type"] != "http":
        return None
    if (scope["method"], scope["path"]) in GUARDED:
        return "analysis"
    if scope["method"] == "POST" and RATED.fullmatch(scope["path"]):
        return "group"
    return None


class OverloadGuard:
    """Pure ASGI middleware (it must answer before the body is read)."""

    def __init__(self, app: ASGIApp, *, client_secret: bytes = b"") -> None:
        self.app = app
        self.client_secret = client_secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = guard_of(scope)
        context = getattr(scope["app"].state, "context", None) if kind else None
        if context is None:  # not guarded, or no lifespan has made the context yet
            await self.app(scope, receive, send)
            return
        limit = context.admission if kind == "analysis" else None
        store, rate, metrics = context.rate_store, context.rate, context.metrics
        if limit is None and store is None:  # both off
            await self.app(scope, receive, send)
            return
        extra: dict[str, str] = {}
        if store is not None:
            decision, extra = await spend(store, rate, scope, self.client_secret)
            if not decision.allowed:
                await refuse(rate_limited(rate, extra), metrics, scope, receive, send)
                return
        if limit is not None and not await self.wait_for_slot(limit, metrics):
            error = Overloaded(
                f"{limit.limit.in_flight} analyses are running and {len(limit.waiting)} waiting, "
                "the most this server takes now.",
                headers=extra | {"Retry-After": str(limit.retry_after_s())},
            )
            await refuse(error, metrics, scope, receive, send)
            return
        await self.admit(scope, receive, send, extra, limit, metrics)

    @staticmethod
    async def wait_for_slot(queue: AdmissionQueue, metrics: Metrics) -> bool:
        started = time.perf_counter()
        admitted = await queue.acquire()
        metrics.admission_wait.observe(time.perf_counter() - started)
        return admitted

    async def admit(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        extra: dict[str, str],
        limit: AdmissionQueue | None,
        metrics: Metrics,
    ) -> None:
        started = time.perf_counter()
        status = 500
        # alone: the only one in flight, and still when it ends if nothing else is admitted
        admissions = limit.limit.admissions if limit and limit.limit.in_flight == 1 else None

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    *((k.lower().encode(), v.encode()) for k, v in extra.items()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if limit is not None:
                done = status == SUCCESS[scope["path"]]
                limit.release(
                    time.perf_counter() - started if done else None,
                    overloaded=status == 503,
                    alone=admissions == limit.limit.admissions,
                )
                metrics.admission_limit.set(limit.limit.bound)


async def refuse(
    error: AppError, metrics: Metrics, scope: Scope, receive: Receive, send: Send
) -> None:
    metrics.refused.labels(code=error.code).inc()
    await problem_response(Request(scope), error)(scope, receive, send)
