"""Annotated dependencies of the routers: the app's context, settings, services, admin auth.

Services are built per request from the parts the lifespan's ``AppContext`` holds (sessions,
storage, settings, the model client, metrics) and open their own sessions: routers never see
a session or a repository.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.analyses.service import AnalysisService
from gateway.catalog.service import CatalogService
from gateway.clients.torchserve import ModelServerClient
from gateway.config import Settings
from gateway.context import AppContext
from gateway.errors import Unauthorized
from gateway.glance.service import GlanceService
from gateway.groups.service import GroupService


def get_context(request: Request) -> AppContext:
    return request.app.state.context


ContextDep = Annotated[AppContext, Depends(get_context)]


def context_settings(context: ContextDep) -> Settings:
    return context.settings


def get_models(context: ContextDep) -> ModelServerClient:
    return context.models


def analysis_service(context: ContextDep) -> AnalysisService:
    return context.analysis_service()


def catalog_service(context: ContextDep) -> CatalogService:
    return context.catalog_service()


def group_service(context: ContextDep) -> GroupService:
    return context.group_service()


def glance_service(context: ContextDep) -> GlanceService:
    return context.glance


SettingsDep = Annotated[Settings, Depends(context_settings)]
ModelsDep = Annotated[ModelServerClient, Depends(get_models)]
AnalysisServiceDep = Annotated[AnalysisService, Depends(analysis_service)]
CatalogDep = Annotated[CatalogService, Depends(catalog_service)]
GroupServiceDep = Annotated[GroupService, Depends(group_service)]
GlanceDep = Annotated[GlanceService, Depends(glance_service)]

bearer = HTTPBearer(auto_error=False, description="ALPHAMALE_ADMIN_TOKEN")


def require_admin(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    expected = settings.admin_token.get_secret_value() if settings.admin_token else ""
    given = credentials.credentials if credentials else ""
    if not expected or not secrets.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized(
            "A valid admin bearer token is required.",
            hint="Send Authorization: Bearer $ALPHAMALE_ADMIN_TOKEN (unset disables admin).",
            headers={"WWW-Authenticate": "Bearer"},
        )


AdminDep = Depends(require_admin)
