"""The groups' service, built per request from the app's context."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from gateway.context import AppContext
from gateway.deps import ContextDep
from gateway.groups.service import GroupService


def group_service(context: AppContext) -> GroupService:
    return GroupService(sessions=context.sessions, settings=context.settings)


def get_group_service(context: ContextDep) -> GroupService:
    return group_service(context)


GroupServiceDep = Annotated[GroupService, Depends(get_group_service)]
