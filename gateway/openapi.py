"""The OpenAPI document, told as the API answers: every error is problem+json.

Routers declare their error statuses with :func:`problems`; FastAPI's own 422 (which it documents
as ``HTTPValidationError``) is answered as a problem too (see ``gateway.main``), so
:func:`problem_openapi` rewrites every 4xx/5xx that carries the Problem or validation schema into
one ``application/problem+json`` body of :class:`Problem`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict

from gateway.problems import PROBLEM_MEDIA_TYPE


class Problem(BaseModel):
    """RFC 9457 problem details, plus a stable ``code`` and a human ``hint``."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    hint: str
    instance: str | None = None


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_REPLACED = {PROBLEM_REF["$ref"], "#/components/schemas/HTTPValidationError"}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route for these problem statuses."""
    return {
        status: {"model": Problem, "description": f"{HTTPStatus(status).phrase} (problem+json)"}
        for status in statuses
    }


def _as_problem(response: dict[str, Any]) -> None:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("$ref") in _REPLACED:
        response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}


def problem_openapi(app: FastAPI) -> None:
    """Serve the app's document with problem+json error bodies (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if status[0] in "45":
                        _as_problem(response)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema()
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
