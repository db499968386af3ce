"""The five types and the reference catalog: answers, images stored object and row together,
and the references a result shows (look-alikes of the person's face, else a random draw)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.taxonomy import TYPE_COLOURS, TYPE_NAMES_KO
from db import queries
from db.models import CatalogImage, FaceType
from gateway.catalog.schemas import CatalogImageOut, FaceTypeOut, ReferenceBy, ReferenceImage
from gateway.clients.storage import Storage, new_key
from gateway.clients.torchserve import ModelServerClient
from gateway.config import Settings
from gateway.errors import NotFound
from gateway.face_index import FaceIndex
from gateway.faces import face_descriptor
from gateway.imaging import clean_image
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


@dataclass(frozen=True)
class References:
    """A result's reference images as answered, and how they were chosen."""

    by: ReferenceBy
    images: list[ReferenceImage]

    @property
    def choice(self) -> dict[str, Any]:
        """What a result keeps of them: the images' ids and similarities."""
        kept = [{"id": image.id, "similarity": image.similarity} for image in self.images]
        return {"by": self.by, "images": kept}


class CatalogService:
    """Types and catalog images; each call opens its own session from the app's sessionmaker."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        storage: Storage,
        settings: Settings,
        metrics: Metrics,
        models: ModelServerClient,
        faces: FaceIndex,
    ) -> None:
        self.sessions = sessions
        self.storage = storage
        self.settings = settings
        self.metrics = metrics
        self.models = models
        self.faces = faces

    async def types(self) -> list[FaceTypeOut]:
        async with self.sessions() as session:
            return [face_type_out(t) for t in await queries.list_types(session)]

    async def face_type(self, slug: str) -> FaceTypeOut:
        async with self.sessions() as session:
            face_type = await queries.get_type(session, slug.lower())
        if face_type is None:
            raise NotFound(f"No type {slug!r}; use alpha, beta, gamma, delta or omega.")
        return face_type_out(face_type)

    async def choose_references(
        self, type_id: int, descriptor: Sequence[float] | None
    ) -> References:
        """A new result's references: the type's catalog faces nearest the person's
        (``descriptor``, used here and dropped) when the settings ask for look-alikes and the
        type has enough images with a face, else distinct images drawn at random."""
        count = self.settings.catalog_per_result
        async with self.sessions() as session:
            if self.settings.references == "look-alike" and descriptor is not None:
                found = await self.faces.look_alikes(session, type_id, descriptor, count)
                if found is not None:
                    rows = await queries.catalog_images_by_id(session, [f.image_id for f in found])
                    similar = {f.image_id: f.similarity for f in found if f.image_id in rows}
                    return await self._references("look-alike", [rows[i] for i in similar], similar)
            drawn = await queries.random_catalog_images(session, type_id, count)
        return await self._references("random", drawn, {})

    async def references(self, type_id: int, choice: dict[str, Any] | None) -> References:
        """A result's references: those chosen with it that are still in the catalog (topped up
        at random when some were deleted); a random draw for results from before choices."""
        chosen = (choice or {}).get("images", [])
        similarity = {item["id"]: item.get("similarity") for item in chosen}
        async with self.sessions() as session:
            found = await queries.catalog_images_by_id(session, list(similarity))
            images = [found[i] for i in similarity if i in found]
            missing = self.settings.catalog_per_result - len(images)
            if missing > 0:
                drawn = await queries.random_catalog_images(
                    session, type_id, self.settings.catalog_per_result
                )
                images += [i for i in drawn if i.id not in similarity][:missing]
        return await self._references((choice or {}).get("by", "random"), images, similarity)

    async def _references(
        self, by: ReferenceBy, images: Sequence[CatalogImage], similarity: dict[str, float | None]
    ) -> References:
        return References(
            by,
            [
                ReferenceImage(
                    id=image.id,
                    url=await self.storage.url(image.object_key, self.settings.url_ttl_s),
                    caption=image.caption,
                    demo=image.is_demo,
                    similarity=similarity.get(image.id),
                )
                for image in images
            ],
        )

    async def images(self, type_slug: str | None = None) -> list[CatalogImageOut]:
        async with self.sessions() as session:
            type_id = None
            if type_slug is not None:
                face_type = await queries.get_type(session, type_slug)
                if face_type is None:
                    raise NotFound(f"No type {type_slug!r}.")
                type_id = face_type.id
            rows = await queries.list_catalog_images(session, type_id)
        return await self._out(rows)

    async def count(self, type_slug: str) -> int:
        async with self.sessions() as session:
            face_type = await queries.get_type(session, type_slug)
            assert face_type is not None, "types are seeded"
            return await queries.count_catalog_images(session, face_type.id)

    async def add(
        self,
        type_slug: str,
        data: bytes,
        caption: str,
        *,
        demo: bool = False,
        describe: bool = True,
    ) -> CatalogImageOut:
        """Clean the image, describe its face through the model server (unless ``describe`` is
        off: the demo illustrations have none), store it, then insert its row; remove the
        object if the row fails. The model server down is ``503``, and nothing is stored."""
        image = await asyncio.to_thread(clean_image, data, self.settings.image_limits)
        descriptor = (
            await face_descriptor(self.models, image.image, self.settings.detect_side)
            if describe
            else None
        )
        key = new_key("catalog", image.extension)
        orphan = self.metrics.orphans.inc
        async with object_then_row(
            self.storage, self.sessions, key, image.data, image.content_type, orphan
        ) as session:
            face_type = await queries.get_type(session, type_slug)
            if face_type is None:
                raise NotFound(f"No type {type_slug!r}.")
            row = CatalogImage(
                type_id=face_type.id,
                object_key=key,
                caption=caption,
                content_type=image.content_type,
                is_demo=demo,
                has_face=descriptor is not None,
                face_descriptor=descriptor,
            )
            session.add(row)
        row.face_type = face_type
        self.faces.forget(face_type.id)
        [out] = await self._out([row])
        return out

    async def delete(self, image_id: str) -> None:
        """Delete the row and its object in one step; the row stays if the object cannot go."""
        async with self.sessions() as session:
            row = await queries.get_catalog_image(session, image_id)
            if row is None:
                raise NotFound("No catalog image with that id.")
            await queries.delete_catalog_image(session, row)
            await session.flush()
            await self.storage.delete(row.object_key)
            await session.commit()
        self.faces.forget(row.type_id)

    async def _out(self, rows: Sequence[CatalogImage]) -> list[CatalogImageOut]:
        return [
            CatalogImageOut(
                id=row.id,
                type=row.face_type.slug,  # type: ignore[arg-type]
                caption=row.caption,
                content_type=row.content_type,
                demo=row.is_demo,
                has_face=row.has_face,
                created_at=row.created_at,
                url=await self.storage.url(row.object_key, self.settings.url_ttl_s),
            )
            for row in rows
        ]
