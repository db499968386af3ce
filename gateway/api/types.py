"""GET /v1/types: the five types and their descriptions."""

from __future__ import annotations

from fastapi import APIRouter

from db import repositories
from gateway.api.deps import SessionDep
from gateway.errors import NotFound
from gateway.openapi import problems
from gateway.presenters import face_type_out
from gateway.schemas import FaceTypeOut

router = APIRouter(prefix="/v1/types", tags=["types"])


@router.get("", response_model=list[FaceTypeOut])
async def list_types(session: SessionDep) -> list[FaceTypeOut]:
    return [face_type_out(t) for t in await repositories.list_types(session)]


@router.get("/{slug}", response_model=FaceTypeOut, responses=problems(404))
async def get_type(slug: str, session: SessionDep) -> FaceTypeOut:
    face_type = await repositories.get_type(session, slug.lower())
    if face_type is None:
        raise NotFound(f"No type {slug!r}; use alpha, beta, gamma, delta or omega.")
    return face_type_out(face_type)
