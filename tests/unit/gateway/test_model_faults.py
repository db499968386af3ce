"""The whole app over the real model server client, whose TorchServe answers badly on purpose.

``httpx.MockTransport`` stands in for TorchServe (its faults are what is tested); the app, its
database (SQLite), its storage (local files), the guard and the client are the real ones. Each
fault must give its documented answer, store nothing and give the admission slot back.
"""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from PIL import Image

from db import migrate
from db.seed import seed_types
from db.session import sqlite_url
from gateway.clients.torchserve import ModelServerClient
from gateway.config import Settings
from gateway.context import AppContext
from gateway.main import create_app
from tests.fixtures.app import CONSENT
from tests.unit.gateway.test_analysis_service import face, photo, regions, stored, typed

Answer = Callable[[httpx.Request], httpx.Response]


def form(image: bytes) -> dict:
    data = {"mbti": "INTJ", "birth_date": "1995-04-17", "consent": CONSENT}
    return {"data": data, "files": {"image": ("selfie.jpg", image, "image/jpeg")}}


def face_check(request: httpx.Request) -> httpx.Response:
    width, height = Image.open(io.BytesIO(request.content)).size
    body = {"faces": [face(200, 180, 120)], "count": 1, "width": width, "height": height}
    return httpx.Response(200, json=body)


class FakeTorchServe:
    """face_check finds a face; face_regions and face_type answer what the test sets."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {
            "face_check": face_check,
            "face_regions": lambda r: httpx.Response(200, json=regions(True, True, True)),
            "face_type": lambda r: httpx.Response(200, json=typed("beta", "beta", "gamma")),
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        return self.answers[request.url.path.split("/")[2]](request)


@pytest.fixture
def torchserve() -> FakeTorchServe:
    return FakeTorchServe()


@asynccontextmanager
async def app_over(
    tmp_path: Path, torchserve: FakeTorchServe
) -> AsyncIterator[tuple[httpx.AsyncClient, AppContext]]:
    """The app on SQLite and local files in ``tmp_path``, over ``torchserve``; one slot."""
    settings = Settings(
        var_dir=tmp_path,
        database_url=sqlite_url(tmp_path),
        rate_limit_quota=0,
        admission_initial=1,
    )
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=httpx.MockTransport(torchserve)) as fake,
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        context: AppContext = application.state.context
        async with context.sessions() as session:
            await seed_types(session)
        context.models = ModelServerClient(fake, "http://ts:8080", "http://ts:8081")
        yield client, context


@pytest.fixture
async def app(
    tmp_path: Path, torchserve: FakeTorchServe
) -> AsyncIterator[tuple[httpx.AsyncClient, AppContext]]:
    async with app_over(tmp_path, torchserve) as running:
        yield running


@pytest.mark.parametrize(
    "fault",
    [
        lambda r: httpx.Response(500, json={"code": 500, "message": "worker died"}),
        lambda r: httpx.Response(200, text="<html>a proxy's error page</html>"),
        lambda r: httpx.Response(200, json={"complete": True}),  # breaks the contract
    ],
    ids=["http_500", "not_json", "contract_break"],
)
async def test_a_failing_model_server_is_503_with_retry_after_and_stores_nothing(
    app: tuple[httpx.AsyncClient, AppContext], torchserve: FakeTorchServe, fault: Answer
) -> None:
    client, context = app
    torchserve.answers["face_regions"] = fault
    response = await client.post("/v1/analyses", **form(photo()))
    problem = response.json()
    assert response.status_code == 503 and problem["code"] == "model_unavailable", problem
    assert int(response.headers["Retry-After"]) >= 1
    assert await stored(context) == (0, [])
    assert context.admission is not None and context.admission.limit.in_flight == 0


async def test_an_image_the_model_cannot_take_is_422_and_stores_nothing(
    app: tuple[httpx.AsyncClient, AppContext], torchserve: FakeTorchServe
) -> None:
    client, context = app
    torchserve.answers["face_type"] = lambda r: httpx.Response(
        200, json={"error": "image_unprocessable"}
    )
    response = await client.post("/v1/analyses", **form(photo()))
    assert response.status_code == 422 and response.json()["code"] == "image_unprocessable"
    assert await stored(context) == (0, [])
    assert context.admission is not None and context.admission.limit.in_flight == 0


async def test_legacy_successes_feed_the_bound_like_the_others(
    app: tuple[httpx.AsyncClient, AppContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each legacy 200 reports its latency to the bound, as a 201 does (how the bound then
    moves is the limiter's, fed latencies in tests/unit/gateway/test_overload.py: how long an
    analysis takes here is the machine's, not the test's)."""
    client, context = app
    admission = context.admission
    assert admission is not None
    reported: list[tuple[float | None, bool]] = []
    release = admission.release

    def recording(
        latency_s: float | None, *, overloaded: bool = False, alone: bool = False
    ) -> None:
        reported.append((latency_s, overloaded))
        release(latency_s, overloaded=overloaded, alone=alone)

    monkeypatch.setattr(admission, "release", recording)
    user = {"user_img": base64.b64encode(photo()).decode(), "age": "1990-03-04", "mbti": "ESTJ"}
    body = {"first_user": user, "result": {"human": "False"}, "consent": CONSENT}
    answers = await asyncio.gather(
        *(client.post("/api/RegisterResult", json=body) for _ in range(4))
    )
    assert [a.status_code for a in answers] == [200] * 4 and answers[0].json()["human"] is True
    assert len(reported) == 4
    assert all(latency is not None and not overloaded for latency, overloaded in reported)
    assert admission.limit.latency_s is not None and admission.limit.in_flight == 0
    rows, files = await stored(context)
    assert rows == len(files) == 4
