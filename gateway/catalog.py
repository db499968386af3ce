"""Reference catalog: add and remove images, object and row together."""

from __future__ import annotations

from db import repositories
from db.models import CatalogImage
from gateway.clients.storage import new_key, stored_object
from gateway.context import AppContext
from gateway.errors import NotFound
from gateway.imaging import ImageLimits, clean_image


async def add_catalog_image(
    context: AppContext, type_slug: str, data: bytes, caption: str, *, demo: bool = False
) -> CatalogImage:
    """Clean the image, store it, then insert its row; remove the object if the row fails."""
    settings = context.settings
    image = clean_image(data, ImageLimits(settings.max_upload_bytes, settings.max_pixels))
    key = new_key("catalog", image.extension)
    orphan = context.metrics.orphans.inc
    async with (
        stored_object(context.storage, key, image.data, image.content_type, orphan),
        context.sessions() as session,
    ):
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
        await session.commit()
        row.face_type = face_type
        return row


async def delete_catalog_image(context: AppContext, image_id: str) -> bool:
    """Delete the row and its object in one step; the row stays if the object cannot go."""
    async with context.sessions() as session:
        row = await repositories.get_catalog_image(session, image_id)
        if row is None:
            return False
        await session.delete(row)
        await session.flush()
        await context.storage.delete(row.object_key)
        await session.commit()
    return True
