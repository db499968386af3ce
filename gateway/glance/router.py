"""GET /v1/admin/glance (bearer token): a glance at this gateway process for the console."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.deps import AdminDep
from gateway.glance.deps import GlanceDep
from gateway.glance.schemas import Glance
from gateway.openapi import problems

router = APIRouter(
    prefix="/v1/admin/glance", tags=["admin"], dependencies=[AdminDep], responses=problems(401)
)


@router.get("", response_model=Glance)
async def glance(service: GlanceDep) -> Glance:
    """Analyses per minute, their median latency, refusals (429/503) and server errors over the
    last five minutes, from this process's own metrics (`/metrics` is not for the public)."""
    return service.glance()
