"""The ops endpoints (``/metrics``, ``/docs``, ``/redoc``, ``/openapi.json``) are for the private
network only.

In the cloud the public load balancer answers those paths itself with a fixed 404
(infra/terraform), but it matches the raw path while the app decodes it: ``/%6Detrics`` would get
through. So a request whose peer is a trusted proxy (it came through the load balancer) gets the
same 404 here, whatever its spelling; Prometheus scraping each task on the private network, and
``make run`` on loopback (no trusted proxies), see them as before.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import NotFound
from gateway.problems import problem_response

OPS_PATHS = ("/metrics", "/docs", "/redoc", "/openapi.json")


def is_ops(path: str) -> bool:
    return any(path == ops or path.startswith(ops + "/") for ops in OPS_PATHS)


class PrivateOps:
    """Pure ASGI middleware, outermost: it sees the peer before the proxy headers rename it."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[str]) -> None:
        self.app = app
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]

    def through_proxy(self, scope: Scope) -> bool:
        peer = (scope.get("client") or ("", 0))[0]
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_ops(scope["path"]) and self.through_proxy(scope):
            refused = NotFound("Not found.", hint="This endpoint is not public.")
            await problem_response(Request(scope), refused)(scope, receive, send)
            return
        await self.app(scope, receive, send)
