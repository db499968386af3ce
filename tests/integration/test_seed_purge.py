"""`python -m gateway.cli.seed` (types, demo catalog), `python -m gateway.cli.purge` (retention)."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from db import queries
from db.models import Analysis, CatalogImage
from gateway.catalog.deps import catalog_service
from gateway.cli import purge, seed
from gateway.cli.demo_catalog import draw_demo_image
from gateway.clients.storage import Storage, new_key
from gateway.config import Settings
from gateway.context import AppContext, app_context
from gateway.errors import StorageUnavailable
from tests.fixtures.app import SIGNING_KEY

SLUGS = ("alpha", "beta", "gamma", "delta", "omega")


def is_png(data: bytes, size: tuple[int, int] | None = None) -> bool:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.format == "PNG" and (size is None or image.size == size)


async def run_cli(main: object, argv: list[str], settings: Settings) -> int:
    """Run a command's ``main`` (it calls asyncio.run) off the test's event loop."""
    return await asyncio.to_thread(main, argv, settings)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        var_dir=tmp_path, database_url=database_url, retention_days=30, signing_key=SIGNING_KEY
    )


# --- demo catalog and seed -----------------------------------------------------------------


def test_demo_images_are_deterministic_pngs() -> None:
    first = draw_demo_image("alpha", 1)
    assert first == draw_demo_image("alpha", 1)
    assert is_png(first, (512, 512))
    others = {draw_demo_image("alpha", 2), draw_demo_image("beta", 1), first}
    assert len(others) == 3
    assert is_png(draw_demo_image("omega", 3, size=128), (128, 128))


async def catalog(context: AppContext) -> dict[str, list[CatalogImage]]:
    async with context.sessions() as session:
        images = await queries.list_catalog_images(session)
    return {slug: [i for i in images if i.face_type.slug == slug] for slug in SLUGS}


async def test_seed_is_idempotent_and_tops_up_the_catalog(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli(seed.main, ["--no-catalog"], settings) == 0
    assert capsys.readouterr().out.strip() == (
        "Seeded: 5 types inserted or updated, catalog skipped."
    )
    async with app_context(settings) as context:
        assert all(not images for images in (await catalog(context)).values())
        for index in (1, 2):  # an operator's own images count towards the six
            mine = draw_demo_image("beta", index)
            await catalog_service(context).add("alpha", mine, "Mine", describe=False)

    await run_cli(seed.main, [], settings)
    assert "0 types inserted or updated, 28 demo catalog images added" in capsys.readouterr().out
    await run_cli(seed.main, ["--catalog-per-type", "6"], settings)
    assert "0 types inserted or updated, 0 demo catalog images added" in capsys.readouterr().out

    async with app_context(settings) as context:
        by_type = await catalog(context)
        assert {slug: len(images) for slug, images in by_type.items()} == dict.fromkeys(SLUGS, 6)
        demo = [image for images in by_type.values() for image in images if image.is_demo]
        assert len(demo) == 28
        assert {image.caption for image in by_type["beta"]} == {
            f"Demo illustration {n} (generated)" for n in range(1, 7)
        }
        for image in demo:
            assert image.content_type == "image/png"
            assert is_png(await context.storage.get(image.object_key), (512, 512))


# --- purge ---------------------------------------------------------------------------------


async def add_analysis(
    context: AppContext, age_days: float, *, store_object: bool = True, client: str = "web"
) -> Analysis:
    """A stored result created ``age_days`` ago, with (or without) its photo in storage."""
    key = new_key("uploads", "png")
    if store_object:
        await context.storage.put(key, draw_demo_image("beta", 1, size=64), "image/png")
    async with context.sessions() as session:
        face_type = await queries.get_type(session, "beta")
        assert face_type is not None
        row = Analysis(
            created_at=datetime.now(UTC) - timedelta(days=age_days),
            object_key=key,
            image_sha256="0" * 64,
            mbti="ENFP",
            birth_month="1990-01",
            outcome="beta",
            type_id=face_type.id,
            score=60,
            regions={},
            model_name="face_regions",
            model_version="1.0",
            delete_token_hash="0" * 64,
            client=client,
        )
        session.add(row)
        await session.commit()
    return row


async def remaining(context: AppContext) -> set[str]:
    async with context.sessions() as session:
        return set((await session.scalars(select(Analysis.id))).all())


@pytest.fixture
async def seeded(settings: Settings) -> Settings:
    await run_cli(seed.main, ["--no-catalog"], settings)
    return settings


async def test_purge_removes_old_rows_and_objects_and_keeps_recent_ones(
    seeded: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with app_context(seeded) as context:
        old = [await add_analysis(context, 40), await add_analysis(context, 31)]
        gone = await add_analysis(context, 45, store_object=False)  # its object is already missing
        recent = [await add_analysis(context, 29), await add_analysis(context, 0)]
    capsys.readouterr()

    await run_cli(purge.main, ["--dry-run"], seeded)
    assert "Dry run: 3 analyses older than 30 days" in capsys.readouterr().out
    await run_cli(purge.main, ["--days", "50"], seeded)
    assert "Purged 0 analyses older than 50 days" in capsys.readouterr().out
    async with app_context(seeded) as context:
        assert await remaining(context) == {a.id for a in [*old, gone, *recent]}
        assert all([await context.storage.exists(a.object_key) for a in [*old, *recent]])

    assert await run_cli(purge.main, [], seeded) == 0
    out = capsys.readouterr().out
    assert "Purged 3 analyses older than 30 days" in out
    assert "1 objects were already missing; 0 failed" in out
    async with app_context(seeded) as context:
        assert await remaining(context) == {a.id for a in recent}
        assert not any([await context.storage.exists(a.object_key) for a in old])
        assert all([await context.storage.exists(a.object_key) for a in recent])


async def test_the_legacy_endpoints_results_have_their_own_short_retention(
    seeded: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Legacy results cannot be deleted by their person (no token): a day, not thirty."""
    async with app_context(seeded) as context:
        legacy_old = await add_analysis(context, 1.5, client="legacy")
        legacy_new = await add_analysis(context, 0.5, client="legacy")
        web = await add_analysis(context, 1.5)
    capsys.readouterr()
    assert await run_cli(purge.main, [], seeded) == 0
    out = capsys.readouterr().out
    assert "Purged 1 analyses older than 30 days (legacy results: 1;" in out
    assert "0 groups left empty and 0 groups idle for 30 days deleted" in out
    async with app_context(seeded) as context:
        assert await remaining(context) == {legacy_new.id, web.id}
        assert not await context.storage.exists(legacy_old.object_key)


RETENTION = purge.Retention(days=30, legacy_days=1, group_days=30)


class FailingDeletes:
    """Storage whose deletes of some keys fail, as an unreachable bucket would."""

    def __init__(self, inner: Storage, failing: set[str]) -> None:
        self.inner = inner
        self.failing = failing

    async def exists(self, key: str) -> bool:
        return await self.inner.exists(key)

    async def delete(self, key: str) -> None:
        if key in self.failing:
            raise StorageUnavailable("S3 delete_object failed: SlowDown")
        await self.inner.delete(key)


async def test_purge_keeps_a_row_whose_object_cannot_be_deleted(seeded: Settings) -> None:
    async with app_context(seeded) as context:
        rows = [await add_analysis(context, 40 + n) for n in range(5)]
        stuck = rows[-1]  # the oldest: first in every batch
        storage = context.storage
        context.storage = FailingDeletes(storage, {stuck.object_key})  # type: ignore[assignment]

        report = await purge.purge(context, RETENTION, batch_size=2)

        assert report.deleted == 4
        assert [analysis_id for analysis_id, _ in report.failures] == [stuck.id]
        assert await remaining(context) == {stuck.id}
        assert await storage.exists(stuck.object_key)

        context.storage = storage  # storage is back: the next run finishes the job
        report = await purge.purge(context, RETENTION)
        assert (report.deleted, report.failures) == (1, [])
        assert await remaining(context) == set()
        assert not await storage.exists(stuck.object_key)
