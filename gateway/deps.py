"""The dependencies every domain shares: the app's context, its settings, admin auth.

Each domain builds its own services from the context's resources in its ``deps.py``
(``gateway.analyses.deps``...); services open their own sessions: routers never see a session
or a query.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.config import Settings
from gateway.context import AppContext
from gateway.errors import Unauthorized


def get_context(request: Request) -> AppContext:
    return request.app.state.context


ContextDep = Annotated[AppContext, Depends(get_context)]


def context_settings(context: ContextDep) -> Settings:
    return context.settings


SettingsDep = Annotated[Settings, Depends(context_settings)]

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
