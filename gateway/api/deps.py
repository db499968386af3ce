"""Annotated dependencies shared by the routers."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.clients.storage import Storage
from gateway.clients.torchserve import ModelServerClient
from gateway.config import Settings
from gateway.context import AppContext
from gateway.errors import Unauthorized
from gateway.pipeline import AnalysisService


def get_context(request: Request) -> AppContext:
    return request.app.state.context


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_settings(context: ContextDep) -> Settings:
    return context.settings


async def get_session(context: ContextDep) -> AsyncIterator[AsyncSession]:
    async with context.sessions() as session:
        yield session


def get_storage(context: ContextDep) -> Storage:
    return context.storage


def get_models(context: ContextDep) -> ModelServerClient:
    return context.models


def get_analysis_service(context: ContextDep) -> AnalysisService:
    return AnalysisService(
        context.settings, context.sessions, context.storage, context.models, context.metrics
    )


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
StorageDep = Annotated[Storage, Depends(get_storage)]
ModelsDep = Annotated[ModelServerClient, Depends(get_models)]
AnalysisServiceDep = Annotated[AnalysisService, Depends(get_analysis_service)]

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
