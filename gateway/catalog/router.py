"""GET /v1/types (public) and /v1/admin/catalog (bearer token): the types and their images."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from core.taxonomy import TypeSlug
from gateway.catalog.deps import CatalogDep
from gateway.catalog.schemas import CatalogImageOut, FaceTypeOut
from gateway.deps import AdminDep, SettingsDep
from gateway.limits import read_upload
from gateway.openapi import problems

types_router = APIRouter(prefix="/v1/types", tags=["types"])
admin_router = APIRouter(
    prefix="/v1/admin/catalog",
    tags=["admin"],
    dependencies=[AdminDep],
    responses=problems(401, 404, 503),
)


@types_router.get("", response_model=list[FaceTypeOut])
async def list_types(catalog: CatalogDep) -> list[FaceTypeOut]:
    return await catalog.types()


@types_router.get("/{slug}", response_model=FaceTypeOut, responses=problems(404))
async def get_type(slug: str, catalog: CatalogDep) -> FaceTypeOut:
    return await catalog.face_type(slug)


@admin_router.get("", response_model=list[CatalogImageOut])
async def list_catalog(
    catalog: CatalogDep,
    type: Annotated[TypeSlug | None, Query(description="Only this type")] = None,
) -> list[CatalogImageOut]:
    return await catalog.images(type)


@admin_router.post(
    "",
    response_model=CatalogImageOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(400, 413, 415, 422),
)
async def upload_catalog_image(
    catalog: CatalogDep,
    settings: SettingsDep,
    type: Annotated[TypeSlug, Form()],
    image: Annotated[UploadFile, File(description="JPEG, PNG or WebP; metadata is stripped")],
    caption: Annotated[str, Form(max_length=200)] = "",
) -> CatalogImageOut:
    return await catalog.add(type, await read_upload(image, settings.max_upload_bytes), caption)


@admin_router.delete("/{image_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_catalog_image(image_id: str, catalog: CatalogDep) -> Response:
    await catalog.delete(image_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
