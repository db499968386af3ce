"""POST /api/RegisterResult, the seed's mobile client: its answer is the stored result's.

The whole app (SQLite, local files, the guard) over a stand-in TorchServe
(tests/unit/gateway/test_model_faults.py) that types each photo as the test says; the real
model server's answer to the same request: tests/integration/test_e2e.py.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.taxonomy import TYPES
from db.models import Analysis
from gateway.catalog.deps import catalog_service
from gateway.context import AppContext
from tests.fixtures.app import CONSENT
from tests.unit.gateway.test_analysis_service import photo, typed
from tests.unit.gateway.test_model_faults import FakeTorchServe, app_over

PER_TYPE = 5  # catalog images of each type: more than an answer shows (4)


@pytest.fixture
async def app(
    tmp_path: Path,
) -> AsyncIterator[tuple[httpx.AsyncClient, AppContext, FakeTorchServe]]:
    torchserve = FakeTorchServe()
    async with app_over(tmp_path, torchserve) as (client, context):
        catalog = catalog_service(context)
        for slug in TYPES:
            for index in range(PER_TYPE):
                await catalog.add(slug, photo((64 + index, 64)), f"{slug} {index}")
        yield client, context, torchserve


def path_of(url: str) -> str:
    """A signed link without its signature: the object it names."""
    return urlsplit(url).path


@pytest.mark.parametrize(
    ("regions", "slug"),
    [
        (("beta", "beta", "gamma"), "beta"),
        (("alpha", "alpha", "omega"), "alpha"),
        (("omega", "omega", "alpha"), "delta"),
    ],
)
async def test_the_legacy_answer_is_the_stored_type_its_catalog_images_and_the_age_sent(
    app: tuple[httpx.AsyncClient, AppContext, FakeTorchServe],
    regions: tuple[str, str, str],
    slug: str,
) -> None:
    client, context, torchserve = app
    torchserve.answers["face_type"] = lambda r: httpx.Response(200, json=typed(*regions))
    user = {"user_img": base64.b64encode(photo()).decode(), "age": "1990-03-04", "mbti": "ESTJ"}
    body = {"first_user": user, "result": {"human": "False"}, "consent": CONSENT}

    answer = await client.post("/api/RegisterResult", json=body)

    assert answer.status_code == 200, answer.text
    legacy = answer.json()
    async with context.sessions() as session:
        [row] = (
            await session.scalars(select(Analysis).options(selectinload(Analysis.face_type)))
        ).all()
    assert row.face_type is not None and row.face_type.slug == row.outcome == slug
    assert legacy["human"] is True
    assert legacy["male_type"] == row.face_type.name
    assert legacy["dsc"] == row.face_type.description
    assert (row.birth_month, row.mbti, row.client) == ("1990-03", "ESTJ", "legacy")

    images = [legacy[f"img{i}"] for i in range(1, 5)]
    own = {path_of(image.url) for image in await catalog_service(context).images(slug)}
    assert len(own) == PER_TYPE and all(images)
    assert len({path_of(url) for url in images}) == 4 and {path_of(url) for url in images} <= own
    for url in images:
        parts = urlsplit(url)
        fetched = await client.get(f"{parts.path}?{parts.query}")
        assert fetched.status_code == 200 and fetched.headers["content-type"].startswith("image/")
