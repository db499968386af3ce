"""What a request leaves behind: no secret in its URL, and one access-log line without the
query string or the client's address.

- Tokens travel in headers only: a request naming one in its query string (``?token=``,
  ``?delete_token=``) is refused with ``400 token_in_url`` before its route runs (an app-wide
  dependency), so no client learns to put it there (URLs end up in logs, browser histories
  and ``Referer`` headers).
- The access log (logger ``alphamale.access``) writes the method, the route's template
  (``/v1/analyses/{analysis_id}``, never the id), the status and the time taken. uvicorn's own
  access log, which writes the path with its query string and the client's address, is off in
  every way the gateway is started (``--no-access-log``; :func:`configure_logging`).
"""

from __future__ import annotations

import logging
import sys
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import Scope

from gateway.errors import TokenInUrl

log = logging.getLogger("alphamale.access")

TOKEN_PARAMETERS = frozenset({"token", "delete_token", "x-delete-token", "x_delete_token"})


def token_in_query(scope: Scope) -> bool:
    """Whether the query string names a token parameter (any case)."""
    query = scope.get("query_string", b"").decode("latin-1")
    return any(
        name.lower() in TOKEN_PARAMETERS for name, _ in parse_qsl(query, keep_blank_values=True)
    )


def route_template(scope: Scope) -> str:
    """The matched route's path template, or "unmatched" (never the request's own path)."""
    return getattr(scope.get("route"), "path", "unmatched")


def refuse_tokens_in_url(request: Request) -> None:
    """Every route's first dependency (after routing, so the log names the route)."""
    if token_in_query(request.scope):
        raise TokenInUrl()


def log_request(method: str, route: str, status: int, seconds: float) -> None:
    log.info("%s %s %d %.0fms", method, route, status, seconds * 1000)


def configure_logging(level: int = logging.INFO) -> None:
    """The gateway's loggers (``alphamale.*``) to stderr, and uvicorn's access log off."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("alphamale")
    if not root.handlers:
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    logging.getLogger("uvicorn.access").disabled = True
