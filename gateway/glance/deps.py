"""The glance, read per request from the app's metrics history and admission bound."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from gateway.deps import ContextDep
from gateway.glance.service import GlanceService


def glance_service(context: ContextDep) -> GlanceService:
    return GlanceService(context.history, context.admission)


GlanceDep = Annotated[GlanceService, Depends(glance_service)]
