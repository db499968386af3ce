"""Migrations, seed and queries behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, text

from db import migrate, queries
from db.models import Analysis, CatalogImage, FaceType
from db.seed import TYPES, seed_types
from db.session import create_engine, make_sessionmaker
from gateway.overload.ratelimit import DatabaseStore, Rate

TABLES = {"face_types", "catalog_images", "analyses", "rate_limits", "groups", "group_members"}


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


async def test_migrations_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    await asyncio.to_thread(migrate.upgrade, empty_database_url)
    assert await table_names(empty_database_url) == TABLES
    await asyncio.to_thread(migrate.downgrade, empty_database_url, "base")
    assert await table_names(empty_database_url) == set()
    await asyncio.to_thread(migrate.upgrade, empty_database_url)
    assert await table_names(empty_database_url) == TABLES


async def test_the_trust_migration_keeps_the_birth_month_only_and_gives_members_ids(
    empty_database_url: str,
) -> None:
    """0005 on rows written before it: the day of birth is gone, members get distinct public
    ids, groups start active at their creation; a downgrade keeps the month."""
    url = empty_database_url
    await asyncio.to_thread(migrate.upgrade, url, "0004")
    engine = create_engine(url)
    created = datetime(2026, 11, 1, tzinfo=UTC)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO face_types (id, slug, name, rank, description, description_ko) "
                "VALUES (1, 'alpha', 'Alpha', 1, 'd', 'd')"
            )
        )
        for index, birth in enumerate(("1995-04-17", "2001-12-31")):
            await connection.execute(
                text(
                    "INSERT INTO analyses (id, created_at, object_key, image_sha256, mbti, "
                    "birth_date, outcome, regions, face_count, model_name, model_version, "
                    "delete_token_hash, client, share_opt_in) VALUES (:id, :created, :key, "
                    "'0', 'INTJ', :birth, 'alpha', '{}', 1, 'm', '1', 'h', 'web', false)"
                ),
                {
                    "id": f"a{index}",
                    "created": created,
                    "key": f"k{index}",
                    "birth": date.fromisoformat(birth),
                },
            )
        await connection.execute(
            text("INSERT INTO groups (id, code, created_at) VALUES ('g', 'code', :created)"),
            {"created": created},
        )
        for index in range(2):
            await connection.execute(
                text(
                    "INSERT INTO group_members (group_id, analysis_id, nickname, joined_at) "
                    "VALUES ('g', :id, 'n', :created)"
                ),
                {"id": f"a{index}", "created": created},
            )
    await engine.dispose()

    await asyncio.to_thread(migrate.upgrade, url)

    engine = create_engine(url)
    async with make_sessionmaker(engine)() as session:
        months = (await session.execute(text("SELECT birth_month FROM analyses ORDER BY id"))).all()
        assert [m for (m,) in months] == ["1995-04", "2001-12"]
        columns = await session.run_sync(
            lambda s: {c["name"] for c in inspect(s.connection()).get_columns("analyses")}
        )
        assert "birth_date" not in columns and {"consent_version", "stored_scale"} <= columns
        ids = [i for (i,) in (await session.execute(text("SELECT member_id FROM group_members")))]
        assert len(set(ids)) == 2 and all(len(i) == 16 for i in ids)
        active = await session.scalar(text("SELECT active_at FROM groups"))
        assert str(active).startswith("2026-11-01")
    await engine.dispose()
    await asyncio.to_thread(migrate.downgrade, url, "0004")
    engine = create_engine(url)
    async with engine.connect() as connection:
        births = (await connection.execute(text("SELECT birth_date FROM analyses"))).all()
    await engine.dispose()
    assert sorted(str(b) for (b,) in births) == ["1995-04-01", "2001-12-01"]


async def test_migration_matches_models(database_url: str) -> None:
    """Autogenerate finds nothing to do: models and migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(database_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), FaceType.metadata)
        )
    await engine.dispose()
    assert diff == []


async def test_seed_is_idempotent(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        assert await seed_types(session) == len(TYPES)
    async with sessions() as session:
        assert await seed_types(session) == 0
        types = await queries.list_types(session)
        assert [t.slug for t in types] == ["alpha", "beta", "gamma", "delta", "omega"]
        assert all(t.description and t.description_ko for t in types)
        # an operator's edit is put back by the next seed
        types[0].description = "edited"
        await session.commit()
    async with sessions() as session:
        assert await seed_types(session) == 1
    await engine.dispose()


async def test_queries_round_trip(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        await seed_types(session)
        alpha = await queries.get_type(session, "alpha")
        assert alpha is not None
        for i in range(6):
            session.add(
                CatalogImage(
                    type_id=alpha.id, object_key=f"catalog/a{i}.png", content_type="image/png"
                )
            )
        old = datetime.now(UTC) - timedelta(days=40)
        session.add(
            Analysis(
                id="a" * 36,
                object_key="uploads/x.jpg",
                image_sha256="0" * 64,
                mbti="INTJ",
                birth_month="1990-01",
                outcome="alpha",
                type_id=alpha.id,
                score=90,
                regions={"face": {"type": "alpha"}},
                model_name="face_regions",
                model_version="1.0",
                delete_token_hash="f" * 64,
                created_at=old,
                idempotency_key="key-1",
            )
        )
        await session.commit()
    async with sessions() as session:
        picked = await queries.random_catalog_images(session, alpha.id, 4)
        assert len(picked) == 4 and len({p.id for p in picked}) == 4
        assert await queries.count_catalog_images(session, alpha.id) == 6
        stored = await queries.get_analysis(session, "a" * 36)
        assert stored is not None and stored.face_type is not None
        assert stored.created_at.tzinfo is not None
        assert stored.created_at == pytest.approx(old, abs=timedelta(seconds=1))
        assert stored.regions == {"face": {"type": "alpha"}}
        assert await queries.get_analysis_by_idempotency_key(session, "key-1") is not None
        cutoff = datetime.now(UTC) - timedelta(days=30)
        expired = await queries.expired_analyses(session, cutoff, cutoff)
        assert [a.id for a in expired] == ["a" * 36]
        assert await queries.delete_analysis(session, "a" * 36) == 1
        await session.commit()
        assert (await session.scalars(select(Analysis))).all() == []
    await engine.dispose()


async def test_the_shared_rate_limit_admits_exactly_the_quota_under_concurrency(
    database_url: str,
) -> None:
    """Two gateway processes (two engines) racing for one client's budget: the row lock lets
    exactly the quota through (SQLite serialises writers, so it is asked one at a time)."""
    rate = Rate(quota=5, period_s=3600)
    engines = [create_engine(database_url) for _ in range(2)]
    try:
        stores = [DatabaseStore(make_sessionmaker(e), clock=lambda: 1000.0) for e in engines]
        hits = [stores[i % 2].hit("203.0.113.7", rate) for i in range(12)]
        if database_url.startswith("sqlite"):
            decisions = [await hit for hit in hits]
        else:
            decisions = await asyncio.gather(*hits)
        assert sum(d.allowed for d in decisions) == 5
        assert sorted(d.remaining for d in decisions if d.allowed) == [0, 1, 2, 3, 4]
    finally:
        for engine in engines:
            await engine.dispose()
