"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from db.session import ping
from gateway.deps import ContextDep
from gateway.errors import AppError

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check(coro: Any) -> dict[str, str]:
    try:
        await asyncio.wait_for(coro, timeout=3)
    except (AppError, TimeoutError, OSError) as exc:
        return {"status": "down", "detail": str(exc) or type(exc).__name__}
    except Exception as exc:
        return {"status": "down", "detail": type(exc).__name__}
    return {"status": "up"}


async def _database(context: Any) -> None:
    await ping(context.engine)


@router.get("/readyz", summary="Ready: database, storage and model server answer")
async def readyz(context: ContextDep) -> JSONResponse:
    names = ("database", "storage", "model_server")
    results = await asyncio.gather(
        _check(_database(context)), _check(context.storage.ping()), _check(context.models.ping())
    )
    checks = dict(zip(names, results, strict=True))
    ready = all(c["status"] == "up" for c in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status_code=200 if ready else 503,
        headers={} if ready else {"Retry-After": "5"},
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(context: ContextDep) -> Response:
    return Response(context.metrics.render(), media_type="text/plain; version=0.0.4")
