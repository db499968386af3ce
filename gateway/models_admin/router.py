"""/v1/admin/models (bearer token): the served models, through TorchServe's management API."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from core.taxonomy import MODEL_NAMES
from gateway.deps import AdminDep
from gateway.errors import InvalidRequest
from gateway.models_admin.deps import ModelsDep
from gateway.models_admin.schemas import VERSION_PATTERN, DefaultVersion, RegisterModel, Workers
from gateway.openapi import problems

router = APIRouter(
    prefix="/v1/admin/models",
    tags=["admin"],
    dependencies=[AdminDep],
    responses=problems(401, 404, 409, 503),
)

ModelName = Annotated[str, Path(pattern=f"^({'|'.join(MODEL_NAMES)})$")]
Version = Annotated[str, Path(pattern=VERSION_PATTERN, max_length=32)]
ARCHIVE = re.compile(r"^[A-Za-z0-9_.-]{1,100}\.mar$")  # a file of the model store, nothing else


@router.get("")
async def list_models(models: ModelsDep) -> list[dict[str, Any]]:
    """Every served model with its default version and all its versions, workers and their
    status (TorchServe's description of a version does not say whether it is the default)."""
    listed = []
    for name in [m["modelName"] for m in await models.list_models()]:
        [default] = await models.describe(name)
        versions = await models.describe(name, "all")
        listed.append({"name": name, "default": default["modelVersion"], "versions": versions})
    return listed


@router.get("/{name}")
async def describe_model(name: ModelName, models: ModelsDep) -> list[dict[str, Any]]:
    return await models.describe(name, "all")


@router.post("", status_code=status.HTTP_201_CREATED)
async def register_model(body: RegisterModel, models: ModelsDep) -> dict[str, Any]:
    """Register a version from an archive already in the model store (`make models` builds them).

    Synchronous: answers once the version's workers are READY, which can take a minute on a busy
    CPU (bounded by `ALPHAMALE_MODEL_MANAGEMENT_TIMEOUT_S`, 180 s by default, not by the
    prediction timeout). It does not become the default: `PUT .../default` does that.
    """
    if not ARCHIVE.match(body.archive) or not body.archive.startswith(MODEL_NAMES):
        raise InvalidRequest("`archive` must be a .mar file name of the model store.")
    return await models.register(body.archive, initial_workers=body.initial_workers)


@router.put("/{name}/default")
async def set_default(name: ModelName, body: DefaultVersion, models: ModelsDep) -> dict[str, Any]:
    return await models.set_default(name, body.version)


@router.put("/{name}/workers")
async def scale(name: ModelName, body: Workers, models: ModelsDep) -> dict[str, Any]:
    """Set the worker count; synchronous like registration (new workers are READY after it)."""
    return await models.scale(name, body.min_workers, body.max_workers, body.version)


@router.delete("/{name}/versions/{version}")
async def unregister(name: ModelName, version: Version, models: ModelsDep) -> dict[str, Any]:
    return await models.unregister(name, version)
