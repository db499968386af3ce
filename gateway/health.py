"""Liveness, readiness and Prometheus metrics.

The readiness answer says which dependency is down, never why (an error's text names hosts and
ports): the reason goes to the log. In the cloud ``/metrics`` is not routed to the public (the
load balancer's rules, infra/terraform)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from db.session import ping
from gateway.deps import ContextDep

router = APIRouter(tags=["health"])
log = logging.getLogger("alphamale.gateway.health")


@router.get("/healthz", summary="Alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _check(name: str, coro: Any) -> dict[str, str]:
    try:
        await asyncio.wait_for(coro, timeout=3)
    except Exception as exc:
        log.warning("not ready: %s is down: %s", name, str(exc) or type(exc).__name__)
        return {"status": "down"}
    return {"status": "up"}


async def _database(context: Any) -> None:
    await ping(context.engine)


@router.get("/readyz", summary="Ready: database, storage and model server answer")
async def readyz(context: ContextDep) -> JSONResponse:
    names = ("database", "storage", "model_server")
    results = await asyncio.gather(
        _check("database", _database(context)),
        _check("storage", context.storage.ping()),
        _check("model_server", context.models.ping()),
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
