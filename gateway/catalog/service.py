"""The five types and the reference catalog: answers, and images stored object and row together."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.taxonomy import TYPE_COLOURS, TYPE_NAMES_KO
from db import repositories
from db.models import CatalogImage, FaceType
from gateway.catalog.schemas import CatalogImageOut, FaceTypeOut, ReferenceImage
from gateway.clients.storage import Storage, new_key
from gateway.config import Settings
from gateway.errors import NotFound
from gateway.imaging import ImageLimits, clean_image
from gateway.metrics import Metrics
from gateway.persistence import object_then_row


def face_type_out(face_type: FaceType) -> FaceTypeOut:
    return FaceTypeOut(
        slug=face_type.slug,  # type: ignore[arg-type]
        name=face_type.name,
        name_ko=TYPE_NAMES_KO[face_type.slug],  # type: ignore[index]
        rank=face_type.rank,
        description=face_type.description,
        description_ko=face_type.description_ko,
        colour=TYPE_COLOURS[face_type.slug],  # type: ignore[index]
    )


class CatalogService:
    """Types and catalog images; each call opens its own session from the app's sessionmaker."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        storage: Storage,
        settings: Settings,
        metrics: Metrics,
    ) -> None:
        self.sessions = sessions
        self.storage = storage
        self.settings = settings
        self.metrics = metrics

    async def types(self) -> list[FaceTypeOut]:
        async with self.sessions() as session:
            return [face_type_out(t) for t in await repositories.list_types(session)]

    async def face_type(self, slug: str) -> FaceTypeOut:
        async with self.sessions() as session:
            face_type = await repositories.get_type(session, slug.lower())
        if face_type is None:
            raise NotFound(f"No type {slug!r}; use alpha, beta, gamma, delta or omega.")
        return face_type_out(face_type)

    async def references(self, type_id: int) -> list[ReferenceImage]:
        """Distinct random catalog images of the type (fewer when the catalog has fewer)."""
        async with self.sessions() as session:
            images = await repositories.random_catalog_images(
                session, type_id, self.settings.catalog_per_result
            )
        return [
            ReferenceImage(
                id=image.id,
                url=await self.storage.url(image.object_key, self.settings.url_ttl_s),
                caption=image.caption,
                demo=image.is_demo,
            )
            for image in images
        ]

    async def images(self, type_slug: str | None = None) -> list[CatalogImageOut]:
        async with self.sessions() as session:
            type_id = None
            if type_slug is not None:
                face_type = await repositories.get_type(session, type_slug)
                if face_type is None:
                    raise NotFound(f"No type {type_slug!r}.")
                type_id = face_type.id
            rows = await repositories.list_catalog_images(session, type_id)
        return await self._out(rows)

    async def count(self, type_slug: str) -> int:
        async with self.sessions() as session:
            face_type = await repositories.get_type(session, type_slug)
            assert face_type is not None, "types are seeded"
            return await repositories.count_catalog_images(session, face_type.id)

    async def add(
        self, type_slug: str, data: bytes, caption: str, *, demo: bool = False
    ) -> CatalogImageOut:
        """Clean the image, store it, then insert its row; remove the object if the row fails."""
        limits = ImageLimits(self.settings.max_upload_bytes, self.settings.max_pixels)
        image = await asyncio.to_thread(clean_image, data, limits)  # CPU-bound
        key = new_key("catalog", image.extension)
        orphan = self.metrics.orphans.inc
        async with object_then_row(
            self.storage, self.sessions, key, image.data, image.content_type, orphan
        ) as session:
            face_type = await repositories.get_type(session, type_slug)
            if face_type is None:
                raise NotFound(f"No type {type_slug!r}.")
            row = CatalogImage(
                type_id=face_type.id,
                object_key=key,
                caption=caption,
                content_type=image.content_type,
                is_demo=demo,
            )
            session.add(row)
        row.face_type = face_type
        [out] = await self._out([row])
        return out

    async def delete(self, image_id: str) -> None:
        """Delete the row and its object in one step; the row stays if the object cannot go."""
        async with self.sessions() as session:
            row = await repositories.get_catalog_image(session, image_id)
            if row is None:
                raise NotFound("No catalog image with that id.")
            await repositories.delete_catalog_image(session, row)
            await session.flush()
            await self.storage.delete(row.object_key)
            await session.commit()

    async def _out(self, rows: Sequence[CatalogImage]) -> list[CatalogImageOut]:
        return [
            CatalogImageOut(
                id=row.id,
                type=row.face_type.slug,  # type: ignore[arg-type]
                caption=row.caption,
                content_type=row.content_type,
                demo=row.is_demo,
                created_at=row.created_at,
                url=await self.storage.url(row.object_key, self.settings.url_ttl_s),
            )
            for row in rows
        ]
