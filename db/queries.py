"""Queries the gateway needs, one function each; callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import Analysis, CatalogImage, FaceType


async def list_types(session: AsyncSession) -> Sequence[FaceType]:
    return (await session.scalars(select(FaceType).order_by(FaceType.rank))).all()


async def get_type(session: AsyncSession, slug: str) -> FaceType | None:
    return await session.scalar(select(FaceType).where(FaceType.slug == slug))


async def random_catalog_images(
    session: AsyncSession, type_id: int, count: int
) -> Sequence[CatalogImage]:
    """Up to ``count`` distinct images of a type, in random order."""
    query = (
        select(CatalogImage)
        .where(CatalogImage.type_id == type_id)
        .order_by(func.random())
        .limit(count)
    )
    return (await session.scalars(query)).all()


async def list_catalog_images(
    session: AsyncSession, type_id: int | None = None
) -> Sequence[CatalogImage]:
    query = select(CatalogImage).options(selectinload(CatalogImage.face_type))
    if type_id is not None:
        query = query.where(CatalogImage.type_id == type_id)
    return (await session.scalars(query.order_by(CatalogImage.created_at))).all()


async def catalog_faces_version(session: AsyncSession, type_id: int) -> tuple[int, datetime | None]:
    """How many images of the type have a face, and the newest one's time: changes whenever
    one is added or deleted."""
    query = select(func.count(), func.max(CatalogImage.created_at)).where(
        CatalogImage.type_id == type_id, CatalogImage.has_face.is_(True)
    )
    count, newest = (await session.execute(query)).one()
    return int(count), newest


async def catalog_faces(session: AsyncSession, type_id: int) -> Sequence[CatalogImage]:
    """The type's images with a face (their descriptors), oldest first."""
    query = (
        select(CatalogImage)
        .where(CatalogImage.type_id == type_id, CatalogImage.has_face.is_(True))
        .order_by(CatalogImage.created_at, CatalogImage.id)
    )
    return (await session.scalars(query)).all()


async def catalog_images_by_id(
    session: AsyncSession, image_ids: Sequence[str]
) -> dict[str, CatalogImage]:
    query = select(CatalogImage).where(CatalogImage.id.in_(image_ids))
    return {image.id: image for image in await session.scalars(query)}


async def count_catalog_images(session: AsyncSession, type_id: int) -> int:
    query = select(func.count()).select_from(CatalogImage).where(CatalogImage.type_id == type_id)
    return int(await session.scalar(query) or 0)


async def get_catalog_image(session: AsyncSession, image_id: str) -> CatalogImage | None:
    return await session.get(CatalogImage, image_id, options=[selectinload(CatalogImage.face_type)])


async def delete_catalog_image(session: AsyncSession, row: CatalogImage) -> None:
    """Mark the row deleted (the DELETE is sent at the next flush or commit)."""
    await session.delete(row)


async def get_analysis(session: AsyncSession, analysis_id: str) -> Analysis | None:
    return await session.get(Analysis, analysis_id, options=[selectinload(Analysis.face_type)])


async def get_analysis_by_idempotency_key(session: AsyncSession, key: str) -> Analysis | None:
    query = (
        select(Analysis)
        .options(selectinload(Analysis.face_type))
        .where(Analysis.idempotency_key == key)
    )
    return await session.scalar(query)


def _expired(cutoff: datetime, legacy_cutoff: datetime) -> ColumnElement[bool]:
    """Analyses created before ``cutoff``, and the legacy endpoint's before ``legacy_cutoff``."""
    return or_(
        Analysis.created_at < cutoff,
        and_(Analysis.client == "legacy", Analysis.created_at < legacy_cutoff),
    )


async def expired_analyses(
    session: AsyncSession, cutoff: datetime, legacy_cutoff: datetime, limit: int = 500
) -> Sequence[Analysis]:
    """Up to ``limit`` analyses past their retention, oldest first."""
    query = (
        select(Analysis)
        .where(_expired(cutoff, legacy_cutoff))
        .order_by(Analysis.created_at)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def count_expired_analyses(
    session: AsyncSession, cutoff: datetime, legacy_cutoff: datetime
) -> int:
    query = select(func.count()).select_from(Analysis).where(_expired(cutoff, legacy_cutoff))
    return int(await session.scalar(query) or 0)


async def delete_analysis(session: AsyncSession, analysis_id: str) -> int:
    result = await session.execute(delete(Analysis).where(Analysis.id == analysis_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
