"""Overload protection: the adaptive bound, GCRA rates and their stores, and the guard in front
of the analysis endpoints. No timing: latencies are fed in, clocks are fakes, and what is "in
flight" is held by the test itself."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from db import migrate, rate_limits
from db.models import RateLimitState
from db.session import create_engine, make_sessionmaker
from gateway.config import Settings
from gateway.main import create_app
from gateway.overload.limiter import AdaptiveLimit
from gateway.overload.ratelimit import DatabaseStore, MemoryStore, Rate, gcra
from tests.fixtures.app import CONSENT

RATE = Rate(quota=3, period_s=30.0)  # 3 at once, then one every 10 s


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- the adaptive bound -------------------------------------------------------------------
def fill(limit: AdaptiveLimit) -> int:
    admitted = 0
    while limit.try_acquire():
        admitted += 1
    return admitted


def test_the_bound_admits_up_to_its_size_and_refuses_the_rest() -> None:
    limit = AdaptiveLimit(initial=3)
    assert fill(limit) == 3 and limit.in_flight == 3 and not limit.try_acquire()
    limit.release(0.2)
    assert limit.try_acquire() and not limit.try_acquire()


def test_fast_answers_at_a_full_bound_grow_it_by_one_per_bound() -> None:
    limit = AdaptiveLimit(initial=4, budget_s=1.0)
    for _ in range(4):  # a bound's worth of fast completions, each while the bound was full
        fill(limit)
        limit.release(0.3)
    assert limit.bound == 5


def test_fast_answers_below_the_bound_leave_it() -> None:
    limit = AdaptiveLimit(initial=4, budget_s=1.0)
    for _ in range(20):
        assert limit.try_acquire()
        limit.release(0.3)
    assert limit.bound == 4


def test_slow_answers_shrink_the_bound_once_per_bound_down_to_the_minimum() -> None:
    limit = AdaptiveLimit(initial=10, budget_s=1.0, backoff=0.5, minimum=2)
    fill(limit)
    limit.release(3.0)  # the first slow answer shrinks the bound at once
    assert limit.bound == 5
    for _ in range(4):  # the rest of the burst: not counted again within a bound's worth
        limit.release(3.0)
    assert limit.bound == 5
    limit.release(3.0)
    assert limit.bound == 2
    for _ in range(40):
        limit.try_acquire()
        limit.release(3.0)
    assert limit.bound == 2  # never below the minimum


def test_an_overloaded_model_server_shrinks_the_bound_and_early_failures_say_nothing() -> None:
    limit = AdaptiveLimit(initial=2, backoff=0.5)
    fill(limit)
    limit.release(None)  # e.g. a 422 before any model call: no signal
    limit.release(None, overloaded=True)
    assert limit.bound == 1 and limit.in_flight == 0


def test_the_budget_follows_analyses_alone_once_one_is_measured() -> None:
    limit = AdaptiveLimit(initial=2, budget_s=1.0, budget_factor=2.0)
    limit.try_acquire()
    limit.release(3.0)  # not alone: the fixed budget stays
    assert limit.alone_s is None and limit.latency_budget_s == 1.0
    limit.try_acquire()
    limit.release(0.4, alone=True)  # a busy box: one alone takes 0.4 s, the budget is 0.8 s
    assert limit.alone_s == 0.4 and limit.latency_budget_s == pytest.approx(0.8)
    fill(limit)
    limit.release(0.9)  # within the fixed budget, beyond this machine's: the bound shrinks
    assert limit.bound == 1
    assert AdaptiveLimit(initial=1, budget_s=1.0).latency_budget_s == 1.0  # no factor: fixed


def test_retry_after_follows_the_measured_latency() -> None:
    limit = AdaptiveLimit(initial=1)
    assert limit.retry_after_s() == 1
    limit.try_acquire()
    limit.release(2.5)
    assert limit.retry_after_s() == 3


# --- GCRA and its stores ------------------------------------------------------------------
def test_gcra_allows_the_quota_at_once_then_one_per_interval() -> None:
    tat, decisions = None, []
    for _ in range(4):
        decision = gcra(tat, 1000.0, RATE)
        decisions.append(decision)
        if decision.allowed:
            tat = decision.tat
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    refused = decisions[3]
    assert refused.retry_after_s == pytest.approx(10.0) and refused.reset_s == pytest.approx(30.0)
    assert not gcra(tat, 1009.9, RATE).allowed
    later = gcra(tat, 1010.0, RATE)
    assert later.allowed and later.remaining == 0
    assert gcra(tat, 1030.0, RATE).remaining == 2  # the bucket is whole again


async def test_the_memory_store_keeps_clients_apart() -> None:
    clock = Clock()
    store = MemoryStore(clock)
    assert [(await store.hit("a", RATE)).allowed for _ in range(4)] == [True] * 3 + [False]
    assert (await store.hit("b", RATE)).allowed
    clock.now += 10
    assert (await store.hit("a", RATE)).allowed


@pytest.fixture
async def shared_db(tmp_path: Path) -> AsyncIterator[str]:
    settings = Settings(var_dir=tmp_path)
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    yield settings.database_url


async def test_gateway_processes_share_one_client_budget_through_the_database(
    shared_db: str,
) -> None:
    """Two stores on two engines stand for two gateway processes."""
    clock = Clock()
    engines = [create_engine(shared_db) for _ in range(2)]
    try:
        first, second = (DatabaseStore(make_sessionmaker(e), clock) for e in engines)
        allowed = [(await store.hit("203.0.113.7", RATE)).allowed for store in (first, second)]
        allowed += [(await first.hit("203.0.113.7", RATE)).allowed]
        assert allowed == [True, True, True]
        assert not (await second.hit("203.0.113.7", RATE)).allowed
        assert (await second.hit("198.51.100.2", RATE)).allowed
        clock.now += 10
        assert (await second.hit("203.0.113.7", RATE)).allowed
    finally:
        for engine in engines:
            await engine.dispose()


async def test_the_purge_deletes_the_rate_rows_that_limit_no_more(shared_db: str) -> None:
    """A row whose arrival time has passed is as good as none: the purge removes it."""
    engine = create_engine(shared_db)
    try:
        sessions, clock = make_sessionmaker(engine), Clock()
        store = DatabaseStore(sessions, clock)
        await store.hit("spent", RATE)  # tat 1010: past by 1011
        for _ in range(3):
            await store.hit("busy", RATE)  # tat 1030
        async with sessions.begin() as session:
            assert await rate_limits.delete_expired(session, 1011.0) == 1
        async with sessions() as session:
            assert [r.key for r in await session.scalars(select(RateLimitState))] == ["busy"]
    finally:
        await engine.dispose()


# --- the client's address behind the load balancer -----------------------------------------
# As Terraform passes them to the gateway's task: the load balancer's subnets, a JSON list
LB_SUBNETS = '["10.0.1.0/24", "10.0.2.0/24"]'
LB = "10.0.1.17"  # the load balancer's address in one of them


@pytest.fixture
async def deployed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """The app with the deployed proxy settings (from the environment, as the ECS task sets
    them) and a quota of 2; clients connecting from any peer address."""
    for name, value in {
        "VAR_DIR": str(tmp_path),
        "TRUSTED_PROXIES": LB_SUBNETS,
        "RATE_LIMIT_QUOTA": "2",
        "MODEL_INFERENCE_URL": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(f"ALPHAMALE_{name}", value)
    settings = Settings()
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    app = create_app(settings)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))

        def peer(address: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            return httpx.AsyncClient(transport=transport, base_url="http://test")

        yield peer


async def test_behind_the_load_balancer_each_client_has_its_own_quota(
    deployed: Callable[[str], httpx.AsyncClient],
) -> None:
    """The load balancer appends the real client to X-Forwarded-For: one client over its quota
    is refused alone, whatever it writes in the header itself."""
    async with deployed(LB) as lb:
        assert [(await post(lb, "203.0.113.5")).status_code for _ in range(2)] == [422, 422]
        assert (await post(lb, "203.0.113.5")).status_code == 429
        spoofed = await post(lb, "198.51.100.9, 203.0.113.5")  # its own value, then the LB's
        assert spoofed.status_code == 429
        assert (await post(lb, "198.51.100.9")).status_code == 422  # another client: admitted


async def test_a_peer_that_is_not_a_proxy_cannot_choose_its_address(
    deployed: Callable[[str], httpx.AsyncClient],
) -> None:
    """A request straight from the internet with a made-up X-Forwarded-For counts as its peer."""
    async with deployed("192.0.2.66") as direct:
        statuses = [(await post(direct, f"203.0.113.{i}")).status_code for i in range(1, 5)]
    assert statuses == [422, 422, 429, 429]


async def test_ops_endpoints_are_not_served_to_what_came_through_the_load_balancer(
    deployed: Callable[[str], httpx.AsyncClient],
) -> None:
    """The load balancer's rules match the raw path; a spelling it misses must not get
    through here either. On the private network (another peer) they answer as before."""
    async with deployed(LB) as lb, deployed("10.0.9.20") as scraper:
        for path in ("/metrics", "/%6Detrics", "/docs", "/openapi.json", "/redoc"):
            refused = await lb.get(path)
            assert refused.status_code == 404 and refused.json()["code"] == "not_found", path
        assert (await lb.get("/healthz")).status_code == 200
        assert (await scraper.get("/metrics")).status_code == 200
        assert (await scraper.get("/openapi.json")).status_code == 200


async def test_hsts_only_on_https_as_a_trusted_proxy_says(
    deployed: Callable[[str], httpx.AsyncClient],
) -> None:
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    async with deployed(LB) as lb, deployed("192.0.2.66") as direct:
        behind = await lb.get("/healthz", headers=https)
        assert behind.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert "Strict-Transport-Security" not in (await lb.get("/healthz")).headers
        assert (
            "Strict-Transport-Security" not in (await direct.get("/healthz", headers=https)).headers
        )


# --- the guard, through the app -----------------------------------------------------------
@pytest.fixture
async def app_client(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    settings = Settings(
        var_dir=tmp_path,
        rate_limit_quota=2,
        rate_limit_period_s=60,
        trusted_proxies=["127.0.0.0/8"],
        admission_initial=2,
        admission_wait_budget_s=0,  # no queue: a full server refuses at once
        model_inference_url="http://127.0.0.1:9",  # never reached: every request is refused early
    )
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client, app.state.context


def post(client: httpx.AsyncClient, ip: str, **body: object) -> object:
    form = {"mbti": "nope", "birth_date": "1995-04-17", "consent": CONSENT} | body
    return client.post(
        "/v1/analyses",
        data=form,
        files={"image": ("x.jpg", b"not read", "image/jpeg")},
        headers={"X-Forwarded-For": ip},
    )


async def test_one_client_over_its_limit_gets_429_while_another_is_admitted(
    app_client: tuple[httpx.AsyncClient, object],
) -> None:
    client, context = app_client
    first = [await post(client, "203.0.113.7") for _ in range(2)]
    assert [r.status_code for r in first] == [422, 422]  # admitted (then refused: bad MBTI)
    assert first[0].headers["RateLimit-Policy"] == '"analyses";q=2;w=60'
    assert first[1].headers["RateLimit"].startswith('"analyses";r=0;')
    limited = await post(client, "203.0.113.7")
    problem = limited.json()
    assert limited.status_code == 429 and problem["code"] == "rate_limited"
    assert limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["Retry-After"]) == 30
    other = await post(client, "198.51.100.2")
    assert other.status_code == 422 and other.json()["code"] == "invalid_mbti"
    keys = list(context.rate_store.tats)  # type: ignore[attr-defined]
    assert len(keys) == 2 and all(re.fullmatch("[0-9a-f]{64}", key) for key in keys)  # no address


async def test_a_full_server_refuses_with_503_before_reading_the_body(
    app_client: tuple[httpx.AsyncClient, object],
) -> None:
    client, context = app_client
    limit = context.admission.limit  # type: ignore[attr-defined]
    held = fill(limit)  # the analyses "in flight" are held by the test
    try:
        refused = await post(client, "203.0.113.9")  # its bad MBTI would be a 422 if read
        problem = refused.json()
        assert refused.status_code == 503 and problem["code"] == "overloaded", problem
        assert int(refused.headers["Retry-After"]) >= 1 and "RateLimit" in refused.headers
    finally:
        for _ in range(held):
            limit.release(None)
    assert (await post(client, "203.0.113.9")).status_code == 422  # admitted again
    assert limit.in_flight == 0  # every admitted request gave its place back


async def test_other_routes_are_not_guarded(app_client: tuple[httpx.AsyncClient, object]) -> None:
    client, context = app_client
    fill(context.admission.limit)  # type: ignore[attr-defined]
    response = await client.get("/v1/types")
    assert response.status_code == 200 and "RateLimit" not in response.headers


async def test_the_legacy_endpoint_is_guarded_like_the_other(
    app_client: tuple[httpx.AsyncClient, object],
) -> None:
    client, context = app_client

    def legacy(ip: str) -> object:
        return client.post("/api/RegisterResult", json={}, headers={"X-Forwarded-For": ip})

    assert [(await legacy("203.0.113.50")).status_code for _ in range(2)] == [422, 422]
    limited = await legacy("203.0.113.50")
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    limit = context.admission.limit  # type: ignore[attr-defined]
    held = fill(limit)
    try:
        refused = await legacy("198.51.100.50")
        assert refused.status_code == 503 and refused.json()["code"] == "overloaded"
    finally:
        for _ in range(held):
            limit.release(None)


async def test_the_database_store_and_admission_off_are_set_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "VAR_DIR": str(tmp_path),
        "RATE_LIMIT_STORE": "database",
        "RATE_LIMIT_QUOTA": "1",
        "ADMISSION_ENABLED": "false",
        "TRUSTED_PROXIES": '["127.0.0.0/8"]',
        "MODEL_INFERENCE_URL": "http://127.0.0.1:9",
    }.items():
        monkeypatch.setenv(f"ALPHAMALE_{name}", value)
    settings = Settings()
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        context = app.state.context
        assert context.admission is None and isinstance(context.rate_store, DatabaseStore)
        assert (await post(client, "203.0.113.7")).status_code == 422
        assert (await post(client, "203.0.113.7")).status_code == 429
        assert (await post(client, "198.51.100.2")).status_code == 422  # another client
        async with context.sessions() as session:
            rows = list(await session.scalars(select(RateLimitState)))
        assert len(rows) == 2 and not any("." in row.key for row in rows)  # hashes, no address


async def test_group_starts_and_joins_share_the_clients_budget_but_not_admission(
    app_client: tuple[httpx.AsyncClient, object],
) -> None:
    client, context = app_client
    ip = {"X-Forwarded-For": "203.0.113.20"}
    body = {
        "analysis_id": "00000000-0000-4000-8000-000000000000",
        "delete_token": "t",
        "nickname": "x",
    }
    analysis = await post(client, "203.0.113.20")
    assert analysis.status_code == 422  # one of the client's two
    limit = context.admission.limit  # type: ignore[attr-defined]
    held = fill(limit)
    try:
        start = await client.post("/v1/groups", json=body, headers=ip)
        assert start.status_code == 404, start.text  # admitted though the bound is full
        assert start.headers["RateLimit"].startswith('"analyses";r=0;')
        join = await client.post("/v1/groups/some-code/members", json=body, headers=ip)
        assert join.status_code == 429 and join.json()["code"] == "rate_limited"
        read = await client.get("/v1/groups/some-code", headers=ip)
        assert read.status_code == 404 and "RateLimit" not in read.headers
    finally:
        for _ in range(held):
            limit.release(None)
