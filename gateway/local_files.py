"""GET /v1/files/{key}: objects of the local storage backend, behind signed, expiring links."""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Response

from gateway.clients.storage import LocalStorage
from gateway.deps import ContextDep
from gateway.errors import NotFound

router = APIRouter(tags=["files"])


@router.get("/v1/files/{key:path}", response_class=Response, include_in_schema=False)
async def get_file(key: str, expires: int, signature: str, context: ContextDep) -> Response:
    storage = context.storage
    if not isinstance(storage, LocalStorage) or not storage.verify(key, expires, signature):
        raise NotFound("No such file, or the link has expired.")
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return Response(
        await storage.get(key),
        media_type=media_type,
        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
    )
