"""The catalog's service, built per request from the app's context."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from gateway.catalog.service import CatalogService
from gateway.context import AppContext
from gateway.deps import ContextDep


def catalog_service(context: AppContext) -> CatalogService:
    return CatalogService(
        sessions=context.sessions,
        storage=context.storage,
        settings=context.settings,
        metrics=context.metrics,
        models=context.models,
        faces=context.faces,
    )


def get_catalog_service(context: ContextDep) -> CatalogService:
    return catalog_service(context)


CatalogDep = Annotated[CatalogService, Depends(get_catalog_service)]
