"""Every admin operation of the OpenAPI document refuses a request without the admin token, and
changes nothing.

The operations are read from the app's own ``/openapi.json`` (and every route of the admin
routers must be in it), so a new one is covered the day it is documented. Each is sent as a
well-formed request (real path values, a minimal valid body): without a token, with a wrong one,
and on an app whose admin token is unset. Each answers 401 ``unauthorized`` and has no side
effect: no connection reaches TorchServe's management API (the gateway reaches it through a
counting proxy, and one authorised call shows that the proxy does count), TorchServe's models,
versions, defaults and workers are as before, and the catalog's rows and objects are untouched
(the DELETE names a stored image).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from PIL import Image

from db.models import CatalogImage
from gateway.catalog.deps import catalog_service
from gateway.catalog.router import admin_router as catalog_admin
from gateway.errors import Unauthorized
from gateway.glance.router import router as glance_admin
from gateway.models_admin.router import router as models_admin
from tests.fixtures.app import ADMIN, ADMIN_TOKEN, Api, running, settings_for
from tests.fixtures.s3 import S3Endpoint
from tests.fixtures.tcp import TcpProxy
from tests.fixtures.torchserve import MODELS, TorchServeInstance

pytestmark = pytest.mark.torchserve
PROBLEM = "application/problem+json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# Path values that name real things where harm is impossible: a served model, a version that is
# not registered; ``image_id`` is a stored catalog image's id (filled per test).
PATH_VALUES = {"name": "face_regions", "version": "9.9"}
WITHOUT_TOKEN: list[dict[str, str]] = [{}, {"Authorization": "Bearer "}]
WRONG_TOKEN: list[dict[str, str]] = [
    {"Authorization": "Bearer wrong"},
    {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
    {"Authorization": f"Basic {ADMIN_TOKEN}"},  # the right secret in the wrong scheme
]


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def admin_operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every ``/v1/admin`` operation the document lists."""
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        if path.startswith("/v1/admin")
        for method, operation in item.items()
        if method in METHODS
    ]


def deref(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$ref`` (``#/components/...``) followed."""
    while "$ref" in schema:
        target: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = target
    return schema


def example(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A valid value of a (simple) schema: its example, default or first choice, else by type."""
    schema = deref(spec, schema)
    if "anyOf" in schema:
        return example(spec, next(s for s in schema["anyOf"] if s.get("type") != "null"))
    for key in ("examples", "enum"):
        if schema.get(key):
            return schema[key][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "boolean":
        return False
    if kind == "object":
        return {
            name: example(spec, schema["properties"][name]) for name in schema.get("required", [])
        }
    return "1.0"


def is_file(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "binary" or "contentMediaType" in schema


def request_for(
    spec: dict[str, Any], method: str, path: str, operation: dict[str, Any], image_id: str
) -> dict[str, Any]:
    """httpx ``request`` arguments for a well-formed call of the operation."""
    values = PATH_VALUES | {"image_id": image_id}
    url, params = path, {}
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if parameter["in"] == "path":
            url = url.replace(f"{{{name}}}", values.get(name, "dummy"))
        elif parameter["in"] == "query" and parameter.get("required"):
            params[name] = example(spec, parameter["schema"])
    assert "{" not in url, (method, path)
    arguments: dict[str, Any] = {"method": method, "url": url, "params": params}
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        arguments["json"] = example(spec, content["application/json"]["schema"])
    elif "multipart/form-data" in content:
        schema = deref(spec, content["multipart/form-data"]["schema"])
        fields = {name: deref(spec, schema["properties"][name]) for name in schema["required"]}
        files = {name for name, field in fields.items() if is_file(field)}
        arguments["files"] = {name: ("x.png", png(), "image/png") for name in files}
        arguments["data"] = {n: example(spec, f) for n, f in fields.items() if n not in files}
    else:
        assert not content, (method, path, sorted(content))
    return arguments


async def model_state(management_url: str) -> dict[str, Any]:
    """What an admin operation could change on TorchServe: each model's versions (with workers,
    their bounds and batching) and its default version."""
    state: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=management_url, timeout=60) as management:
        listed = (await management.get("/models")).json()["models"]
        state["models"] = sorted(m["modelName"] for m in listed)
        for name in state["models"]:
            versions = (await management.get(f"/models/{name}/all")).json()
            [default] = (await management.get(f"/models/{name}")).json()
            state[name] = {
                "default": default["modelVersion"],
                "versions": sorted(
                    (
                        v["modelVersion"],
                        v["minWorkers"],
                        v["maxWorkers"],
                        v["batchSize"],
                        len(v["workers"]),
                    )
                    for v in versions
                ),
            }
    return state


async def catalog_state(api: Api) -> tuple[int, list[str]]:
    return await api.count_rows(CatalogImage), await api.object_keys("catalog/")


async def assert_admin_refuses(
    api: Api,
    management: TcpProxy,
    torchserve: TorchServeInstance,
    headers_list: list[dict[str, str]],
) -> None:
    """Every documented admin operation, with each of ``headers_list``: 401, and nothing done."""
    spec = (await api.client.get("/openapi.json")).json()
    operations = admin_operations(spec)
    documented = {(method, path) for method, path, _ in operations}
    routes = {
        (method, route.path)
        for router in (catalog_admin, models_admin, glance_admin)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert len(routes) >= 10 and routes <= documented  # every admin route is in the document

    kept = await catalog_service(api.context).add("alpha", png(), "must stay", describe=False)
    catalog_before = await catalog_state(api)
    assert catalog_before[0] == 1 and len(catalog_before[1]) == 1
    models_before = await model_state(torchserve.management_url)
    assert models_before["models"] == sorted(MODELS)
    connections = management.connections

    for method, path, operation in operations:
        arguments = request_for(spec, method, path, operation, kept.id)
        for headers in headers_list:
            response = await api.client.request(**arguments, headers=headers)
            where = (method, path, headers, response.text)
            assert response.status_code == Unauthorized.status, where
            assert response.headers["content-type"].startswith(PROBLEM), where
            assert response.json()["code"] == Unauthorized.code, where
            assert response.headers["www-authenticate"] == "Bearer", where

    assert management.connections == connections  # nothing reached the management API
    assert await model_state(torchserve.management_url) == models_before
    assert await catalog_state(api) == catalog_before


@pytest.fixture
async def management(torchserve: TorchServeInstance) -> AsyncIterator[TcpProxy]:
    """A counting proxy in front of the session TorchServe's management API."""
    async with TcpProxy.for_url(torchserve.management_url) as proxy:
        yield proxy


def model_urls(torchserve: TorchServeInstance, management: TcpProxy) -> dict[str, str]:
    return {
        "model_inference_url": torchserve.inference_url,
        "model_management_url": management.http_url(torchserve.management_url),
    }


async def test_admin_operations_need_the_token(
    tmp_path: Path,
    pg_database: str,
    s3_endpoint: S3Endpoint,
    torchserve: TorchServeInstance,
    management: TcpProxy,
) -> None:
    urls = model_urls(torchserve, management)
    async with running(settings_for(tmp_path, pg_database, s3_endpoint, **urls)) as api:
        await assert_admin_refuses(api, management, torchserve, WITHOUT_TOKEN + WRONG_TOKEN)
        # The proxy counts: the same operations with the token reach TorchServe.
        listed = await api.client.get("/v1/admin/models", headers=ADMIN)
        assert listed.status_code == 200, listed.text
        assert management.connections > 0


async def test_admin_is_off_without_a_configured_token(
    tmp_path: Path,
    pg_database: str,
    s3_endpoint: S3Endpoint,
    torchserve: TorchServeInstance,
    management: TcpProxy,
) -> None:
    """Unset ALPHAMALE_ADMIN_TOKEN: no token opens it, not even the one other apps use."""
    settings = settings_for(
        tmp_path, pg_database, s3_endpoint, admin_token=None, **model_urls(torchserve, management)
    )
    assert settings.admin_token is None
    async with running(settings) as api:
        headers = [*WITHOUT_TOKEN, *WRONG_TOKEN, ADMIN, {"Authorization": "Bearer None"}]
        await assert_admin_refuses(api, management, torchserve, headers)
