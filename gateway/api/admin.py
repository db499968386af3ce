"""Admin API (bearer token): the reference catalog and the served models."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile, status

from db import repositories
from gateway.api.deps import AdminDep, ContextDep, ModelsDep, SessionDep, SettingsDep, StorageDep
from gateway.catalog import add_catalog_image, delete_catalog_image
from gateway.errors import ImageTooLarge, InvalidRequest, NotFound
from gateway.openapi import problems
from gateway.presenters import catalog_image_out
from gateway.schemas import CatalogImageOut, DefaultVersion, RegisterModel, TypeSlug, Workers

router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    dependencies=[AdminDep],
    responses=problems(401, 404, 409, 503),
)

MODEL_NAMES = ("face_check", "face_regions")
ModelName = Annotated[str, Path(pattern=r"^(face_check|face_regions)$")]
Version = Annotated[str, Path(pattern=r"^[0-9A-Za-z._-]{1,32}$")]
ARCHIVE = re.compile(r"^[A-Za-z0-9_.-]{1,100}\.mar$")  # a file of the model store, nothing else


@router.get("/catalog", response_model=list[CatalogImageOut])
async def list_catalog(
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    type: Annotated[TypeSlug | None, Query(description="Only this type")] = None,
) -> list[CatalogImageOut]:
    type_id = None
    if type is not None:
        face_type = await repositories.get_type(session, type)
        assert face_type is not None, "types are seeded"
        type_id = face_type.id
    images = await repositories.list_catalog_images(session, type_id)
    return [await catalog_image_out(storage, settings, image) for image in images]


@router.post(
    "/catalog",
    response_model=CatalogImageOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(400, 413, 415, 422),
)
async def upload_catalog_image(
    context: ContextDep,
    type: Annotated[TypeSlug, Form()],
    image: Annotated[UploadFile, File(description="JPEG, PNG or WebP; metadata is stripped")],
    caption: Annotated[str, Form(max_length=200)] = "",
) -> CatalogImageOut:
    settings = context.settings
    if image.size is not None and image.size > settings.max_upload_bytes:
        raise ImageTooLarge(
            f"The image is {image.size} bytes; at most {settings.max_upload_bytes}."
        )
    data = await image.read(settings.max_upload_bytes + 1)
    row = await add_catalog_image(context, type, data, caption)
    return await catalog_image_out(context.storage, settings, row)


@router.delete("/catalog/{image_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_catalog_image(image_id: str, context: ContextDep) -> Response:
    if not await delete_catalog_image(context, image_id):
        raise NotFound("No catalog image with that id.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/models")
async def list_models(models: ModelsDep) -> list[dict[str, Any]]:
    """Every served model with all its versions, workers and their status."""
    return [
        {"name": name, "versions": await models.describe(name, "all")}
        for name in [m["modelName"] for m in await models.list_models()]
    ]


@router.get("/models/{name}")
async def describe_model(name: ModelName, models: ModelsDep) -> list[dict[str, Any]]:
    return await models.describe(name, "all")


@router.post("/models", status_code=status.HTTP_201_CREATED)
async def register_model(body: RegisterModel, models: ModelsDep) -> dict[str, Any]:
    """Register a version from an archive already in the model store (`make models` builds them).

    Synchronous: answers once the version's workers are READY, which can take a minute on a busy
    CPU (bounded by `ALPHAMALE_MODEL_MANAGEMENT_TIMEOUT_S`, 180 s by default, not by the
    prediction timeout). It does not become the default: `PUT .../default` does that.
    """
    if not ARCHIVE.match(body.archive) or not body.archive.startswith(MODEL_NAMES):
        raise InvalidRequest("`archive` must be a .mar file name of the model store.")
    return await models.register(body.archive, initial_workers=body.initial_workers)


@router.put("/models/{name}/default")
async def set_default(name: ModelName, body: DefaultVersion, models: ModelsDep) -> dict[str, Any]:
    return await models.set_default(name, body.version)


@router.put("/models/{name}/workers")
async def scale(name: ModelName, body: Workers, models: ModelsDep) -> dict[str, Any]:
    """Set the worker count; synchronous like registration (new workers are READY after it)."""
    return await models.scale(name, body.min_workers, body.max_workers, body.version)


@router.delete("/models/{name}/versions/{version}")
async def unregister(name: ModelName, version: Version, models: ModelsDep) -> dict[str, Any]:
    return await models.unregister(name, version)
