"""The FastAPI app: ``create_app()`` with a lifespan that owns every client; ``serve_app()`` is
what a gateway process runs (the allocator set for the process, then ``create_app()``)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gateway import health, local_files
from gateway.access import (
    configure_logging,
    log_request,
    refuse_tokens_in_url,
    route_template,
)
from gateway.analyses import legacy
from gateway.analyses import router as analyses
from gateway.catalog.router import admin_router as catalog_admin
from gateway.catalog.router import types_router
from gateway.config import Settings, get_settings
from gateway.consent import router as consent
from gateway.context import app_context
from gateway.errors import AppError, DatabaseUnavailable, HttpProblem, ImageTooLarge
from gateway.glance import router as glance
from gateway.groups import router as groups
from gateway.limits import check_size, request_body_limit
from gateway.malloc import limit_heap_growth
from gateway.models_admin import router as models_admin
from gateway.openapi import problem_openapi
from gateway.ops_private import PrivateOps
from gateway.overload.middleware import OverloadGuard
from gateway.problems import problem_response
from gateway.validation import invalid_request
from gateway.web import group_router as web_groups
from gateway.web import router as web

log = logging.getLogger("alphamale.gateway")

METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
HSTS = "max-age=31536000; includeSubDomains"


def allowed_methods(request: Request) -> list[str]:
    """Every method some route fully matches on this request's path."""
    routes = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(request, invalid_request(exc.errors(), located=True))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names only the first route's methods
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(request, HttpProblem(exc.status_code, str(exc.detail), headers))

    @app.exception_handler(DBAPIError)
    async def database_down(request: Request, exc: DBAPIError) -> JSONResponse:
        """The database unreachable or failing, wherever a service met it: 503, retry later
        (a constraint broken is our bug: 500)."""
        if isinstance(exc, IntegrityError):
            return await unexpected(request, exc)
        log.warning("database error on %s: %s", request.method, type(exc.orig).__name__)
        problem = DatabaseUnavailable("The database did not answer.", headers={"Retry-After": "5"})
        return problem_response(request, problem)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, AppError())


class BodyLimit:
    """The request body's limit (:func:`gateway.limits.request_body_limit`): a body declaring
    more is answered at once, unread; a body streaming more (chunked) stops being read, the
    route's read raising ``ImageTooLarge``. The hint names ``max_bytes``, the image limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limit = request_body_limit(max_bytes)

    def check(self, size: int, subject: str) -> None:
        check_size(size, self.limit, subject=subject, max_bytes=self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit():
            try:
                self.check(int(length), "The request body")
            except ImageTooLarge as error:
                return await problem_response(Request(scope), error)(scope, receive, send)
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            self.check(received, "The request body read so far")
            return message

        await self.app(scope, limited, send)


def install_middleware(app: FastAPI, settings: Settings) -> None:
    """Innermost first: the body limit, observation (metrics, access log, HSTS), the
    overload guard, CORS, the trusted proxies' headers (the client's address and scheme that
    every layer inside sees), and outermost the ops endpoints kept from what came through a
    proxy."""
    # innermost: a streamed body raises inside the route; measured by the middleware below
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    hsts = settings.hsts

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Every request measured and logged by its route's template; HSTS on HTTPS."""
        started = time.perf_counter()
        response = await call_next(request)
        path = route_template(request.scope)
        elapsed = time.perf_counter() - started
        metrics = request.app.state.context.metrics
        metrics.requests.labels(request.method, path, str(response.status_code)).inc()
        metrics.latency.labels(path).observe(elapsed)
        log_request(request.method, path, response.status_code, elapsed)
        if hsts and request.url.scheme == "https":
            response.headers["Strict-Transport-Security"] = HSTS
        return response

    # before the body is read: per-client rates, then admission
    app.add_middleware(OverloadGuard, client_secret=settings.signing_secret)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "Idempotency-Key", "X-Delete-Token"],
        )
    # uvicorn runs with --no-proxy-headers: only the proxies named in settings are believed
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies or [])
    if settings.trusted_proxies:  # outermost: the ops endpoints are not for what came through
        app.add_middleware(PrivateOps, trusted_proxies=settings.trusted_proxies)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with app_context(settings) as context:
            app.state.context = context
            yield

    app = FastAPI(
        title="AlphaMale",
        version="1.0.0",
        summary="Face-type analysis: a selfie in, one of five appearance types out.",
        description=(
            "Errors are RFC 9457 problem+json bodies with a stable `code` and a `hint`. "
            "The type is for entertainment only; see the model card for what it does not mean."
        ),
        lifespan=lifespan,
        dependencies=[Depends(refuse_tokens_in_url)],
    )
    install_error_handlers(app)
    install_middleware(app, settings)
    for router in (
        consent.router,
        analyses.router,
        groups.router,
        types_router,
        legacy.router,
        catalog_admin,
        models_admin.router,
        glance.router,
        health.router,
        local_files.router,
        web.router,
        web_groups.router,
    ):
        app.include_router(router)
    problem_openapi(app)
    return app


def serve_app() -> FastAPI:
    """The app as a gateway process serves it (``uvicorn gateway.main:serve_app --factory``):
    the process's allocator is set first so big photos do not leave the heap resident
    (:mod:`gateway.malloc`). Tests build :func:`create_app` and leave their own process's
    allocator alone."""
    limit_heap_growth()
    configure_logging()
    return create_app()
