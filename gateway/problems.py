"""RFC 9457 problem details over HTTP: the media type and the one renderer.

Every error answer is an :class:`~gateway.errors.AppError` rendered here, whether an exception
handler of :mod:`gateway.main` or a middleware answering before any route runs (the overload
guard, the body limit) gives it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.errors import AppError

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_response(request: Request, error: AppError) -> JSONResponse:
    """``error`` as a problem+json answer, its ``instance`` the request's path."""
    return JSONResponse(
        error.problem(instance=request.url.path),
        status_code=error.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=error.headers,
    )
