"""The analyses' service, built per request from the app's context."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from gateway.analyses.service import AnalysisService
from gateway.catalog.deps import catalog_service
from gateway.context import AppContext
from gateway.deps import ContextDep


def analysis_service(context: AppContext) -> AnalysisService:
    return AnalysisService(
        sessions=context.sessions,
        storage=context.storage,
        models=context.models,
        settings=context.settings,
        metrics=context.metrics,
        catalog=catalog_service(context),
        decodes=context.decodes,
    )


def get_analysis_service(context: ContextDep) -> AnalysisService:
    return analysis_service(context)


AnalysisServiceDep = Annotated[AnalysisService, Depends(get_analysis_service)]
