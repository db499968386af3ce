"""The admin glance: its window over the process's own metrics, the median from histogram
buckets, and the route (the admin token, the documented shape, numbers after real requests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from db import migrate
from gateway.config import Settings
from gateway.glance.service import GlanceService, quantile
from gateway.metrics import Metrics
from gateway.metrics_history import MetricsHistory
from tests.fixtures.app import ADMIN, ADMIN_TOKEN, CONSENT, running

INF = float("inf")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the median from buckets ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("cumulative", "expected"),
    [
        ({}, None),
        ({0.1: 0.0, INF: 0.0}, None),
        ({0.1: 2.0, 0.25: 6.0, INF: 8.0}, 0.175),  # rank 4 is halfway through (0.1, 0.25]
        ({0.1: 4.0, 0.25: 8.0, INF: 8.0}, 0.1),  # exactly the first bucket's bound
        ({0.5: 1.0, INF: 8.0}, 0.5),  # in +Inf: the highest finite bound
        ({0.25: 1.0, 0.5: 1.0, 1.0: 5.0, INF: 5.0}, 0.6875),  # rank 2.5, past an empty bucket
    ],
)
def test_the_median_is_interpolated_within_its_bucket(
    cumulative: dict[float, float], expected: float | None
) -> None:
    assert quantile(0.5, cumulative) == pytest.approx(expected)


# --- the window -----------------------------------------------------------------------------
def analyses(metrics: Metrics, count: int, outcome: str = "beta", seconds: float = 0.2) -> None:
    for _ in range(count):
        metrics.analyses.labels(outcome=outcome, client="web").inc()
        metrics.latency.labels("/v1/analyses").observe(seconds)


def test_a_young_process_reports_since_it_started() -> None:
    metrics, clock = Metrics(), Clock()
    history = MetricsHistory(metrics, clock=clock)
    glance = GlanceService(history)
    clock.now += 120
    analyses(metrics, 6)
    analyses(metrics, 2, outcome="no_face", seconds=0.05)
    metrics.refused.labels(code="overloaded").inc()
    metrics.requests.labels("POST", "/v1/analyses", "503").inc()
    metrics.requests.labels("POST", "/v1/analyses", "201").inc()
    metrics.model_seconds.labels(model="face_check").observe(0.11)
    report = glance.glance()
    assert report.since_start and report.window_s == 120 and report.uptime_s == 120
    assert report.analyses == 8 and report.analyses_per_minute == 4.0
    assert report.outcomes == {"beta": 6, "no_face": 2}
    assert report.refused == {"rate_limited": 0, "overloaded": 1}
    assert report.refused_per_minute == 0.5 and report.server_errors == 1
    assert report.p50_ms is not None and 100 <= report.p50_ms <= 250  # six of eight took 0.2 s
    assert set(report.model_p50_ms) == {"face_check"}
    assert report.admission is None  # none given: admission control off


def test_an_older_process_reports_the_last_five_minutes_from_its_samples() -> None:
    metrics, clock = Metrics(), Clock()
    history = MetricsHistory(metrics, clock=clock)
    glance = GlanceService(history)
    for second in range(0, 600, 10):  # the lifespan's task: a sample every 10 s
        clock.now = 1000.0 + second
        if second < 200:
            analyses(metrics, 1, outcome="alpha")  # 20 early analyses, out of the window
        elif second >= 400:
            analyses(metrics, 2, outcome="gamma")  # 40 recent ones
            metrics.refused.labels(code="rate_limited").inc()
        history.keep(history.read())
    clock.now = 1000.0 + 605
    report = glance.glance()
    assert not report.since_start and 300 <= report.window_s < 310
    assert report.outcomes == {"gamma": 40} and report.analyses == 40
    assert report.analyses_per_minute == pytest.approx(40 / report.window_s * 60, abs=0.01)
    assert report.refused == {"rate_limited": 20, "overloaded": 0}
    assert report.analyses_since_start == 60 and report.refused_since_start == 20
    assert len(history.samples) <= 32  # the window's samples and the one that starts it


def test_answers_between_samples_keep_no_more_samples() -> None:
    metrics, clock = Metrics(), Clock()
    history = MetricsHistory(metrics, clock=clock)
    glance = GlanceService(history)
    for _ in range(100):
        clock.now += 0.5
        glance.glance()
    assert len(history.samples) == 6  # the start, then one every 10 s of the 50 s


# --- the route ------------------------------------------------------------------------------
@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway on SQLite with the admin token set, two analyses a minute per client and no
    model server (every analysis here is refused for its input before any model is asked)."""
    settings = Settings(
        var_dir=tmp_path,
        admin_token=ADMIN_TOKEN,
        rate_limit_quota=2,
        rate_limit_period_s=60,
        model_inference_url="http://127.0.0.1:9",
    )
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    async with running(settings) as api:
        yield api.client


async def test_the_glance_needs_the_admin_token(client: httpx.AsyncClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {ADMIN_TOKEN}"},
    ):
        response = await client.get("/v1/admin/glance", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "unauthorized"


async def test_the_glance_counts_analyses_latency_and_refusals(client: httpx.AsyncClient) -> None:
    first = (await client.get("/v1/admin/glance", headers=ADMIN)).json()
    assert first["since_start"] and first["analyses"] == 0 and first["p50_ms"] is None
    assert first["refused"] == {"rate_limited": 0, "overloaded": 0}
    assert first["admission"] == {"bound": 3, "in_flight": 0, "waiting": 0, "shedding": False}

    form = {"mbti": "nope", "birth_date": "1995-04-17", "consent": CONSENT}
    image = {"image": ("x.jpg", b"not read", "image/jpeg")}
    statuses = [
        (await client.post("/v1/analyses", data=form, files=image)).status_code for _ in range(3)
    ]
    assert statuses == [422, 422, 429]  # two analyses answered, then the client's rate

    report = (await client.get("/v1/admin/glance", headers=ADMIN)).json()
    assert report["analyses"] == 2 and report["outcomes"] == {"invalid_mbti": 2}
    assert report["analyses_per_minute"] > 0 and report["p50_ms"] > 0
    assert report["refused"] == {"rate_limited": 1, "overloaded": 0}
    assert report["analyses_since_start"] == 2 and report["refused_since_start"] == 1
    assert report["server_errors"] == 0 and report["window_s"] <= report["uptime_s"]


async def test_the_glance_is_documented_with_its_model(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"]["/v1/admin/glance"]["get"]
    assert operation["tags"] == ["admin"] and set(operation["responses"]) == {"200", "401"}
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Glance"}
    glance = spec["components"]["schemas"]["Glance"]
    assert "per minute" in glance["properties"]["analyses_per_minute"]["description"]
    assert "300" in glance["properties"]["window_s"]["description"]
