"""The model server's front door when TorchServe's token authorization is on.

TorchServe 0.12 makes its own keys at every start (random, in ``key_file.json`` beside it) and
takes none from outside, while the gateway must hold its key before a model server starts (an
ECS secret, compose's environment) and several boxes answer behind one load balancer. So
TorchServe listens on loopback with token authorization on, and a guard listens where TorchServe
would: it lets a request through only with the deployment's bearer key of that API
(``ALPHAMALE_MODEL_INFERENCE_KEY``, ``ALPHAMALE_MODEL_MANAGEMENT_KEY``) and forwards it with
TorchServe's own key. ``GET /ping`` passes without a key: load balancers' health checks, and it
says no more than Healthy or not. A request is read whole (TorchServe's own 16 MiB limit) and
sent on a fresh loopback connection, so nothing but a checked request ever reaches TorchServe.
"""

from __future__ import annotations

import hmac
import http.client
import json
import logging
import threading
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENVIRONMENT = {
    "inference": "ALPHAMALE_MODEL_INFERENCE_KEY",
    "management": "ALPHAMALE_MODEL_MANAGEMENT_KEY",
}
MIN_KEY_LENGTH = 32
MAX_BODY_BYTES = 16 * 1024 * 1024  # config.properties' max_request_size
UPSTREAM_TIMEOUT_S = 300.0  # above a model registration's wait for its workers
IDLE_TIMEOUT_S = 120.0  # kept-alive connections outlive a load balancer's 60 s idle timeout
OPEN = frozenset({("GET", "/ping")})
NOT_FORWARDED = frozenset(  # hop-by-hop, and what the guard sets itself
    {
        "authorization",
        "connection",
        "content-length",
        "host",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
NOT_RETURNED = NOT_FORWARDED | {"date", "server"}  # send_response writes these two
log = logging.getLogger(__name__)


class GuardError(ValueError):
    """The guard's keys are missing or too weak."""


@dataclass(frozen=True)
class Route:
    """One guarded API: the key its callers must send, and TorchServe's address and key."""

    accept: str
    upstream_host: str
    upstream_port: int
    upstream_key: str


def deployment_keys(environ: Mapping[str, str]) -> dict[str, str]:
    """The keys callers must send, by API, from the environment: inference is required;
    management is optional (without it the management API never leaves the container)."""
    keys = {api: environ[name] for api, name in ENVIRONMENT.items() if environ.get(name)}
    if "inference" not in keys:
        raise GuardError(f"{ENVIRONMENT['inference']} is not set: token auth needs it")
    weak = [ENVIRONMENT[api] for api, key in keys.items() if len(key) < MIN_KEY_LENGTH]
    if weak:
        raise GuardError(f"{', '.join(weak)}: at least {MIN_KEY_LENGTH} characters")
    return keys


class Guard(ThreadingHTTPServer):
    """A threaded HTTP server in front of one TorchServe API."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], route: Route) -> None:
        super().__init__(address, GuardHandler)
        self.route = route


class GuardHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S
    # headers and body are two writes: without TCP_NODELAY the body waits for the client's
    # delayed ACK (measured: +30 to 55 ms a prediction)
    disable_nagle_algorithm = True
    server: Guard

    def do_GET(self) -> None:
        self.relay()

    do_POST = do_PUT = do_DELETE = do_OPTIONS = do_GET

    def relay(self) -> None:
        """Check the request, then forward it whole with TorchServe's key; its answer back."""
        route = self.server.route
        if (self.command, self.path) not in OPEN and not self.authorized(route.accept):
            return self.refuse(401, "Unauthorized", "a bearer key of this API is required")
        lengths = self.headers.get_all("Content-Length") or ["0"]
        if self.headers.get("Transfer-Encoding") or len(lengths) > 1:
            return self.refuse(411, "LengthRequired", "one Content-Length, no chunked bodies")
        if not lengths[0].isdigit():
            return self.refuse(400, "BadRequest", "Content-Length is not a number")
        if int(lengths[0]) > MAX_BODY_BYTES:
            return self.refuse(413, "RequestTooLarge", f"at most {MAX_BODY_BYTES} bytes")
        body = self.rfile.read(int(lengths[0]))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in NOT_FORWARDED}
        headers["Authorization"] = f"Bearer {route.upstream_key}"
        try:
            with closing(
                http.client.HTTPConnection(
                    route.upstream_host, route.upstream_port, timeout=UPSTREAM_TIMEOUT_S
                )
            ) as upstream:
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                status, reason, answer_headers = answer.status, answer.reason, answer.getheaders()
                content = answer.read()
        except (OSError, http.client.HTTPException) as error:
            return self.refuse(502, "BadGateway", f"TorchServe unreachable: {type(error).__name__}")
        self.send_response(status, reason)
        for name, value in answer_headers:
            if name.lower() not in NOT_RETURNED:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def authorized(self, accept: str) -> bool:
        scheme, _, key = self.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            key.strip().encode(), accept.encode()
        )

    def refuse(self, status: int, kind: str, message: str) -> None:
        """An answer in TorchServe's error shape; the connection is closed after it."""
        log.warning("refused %s %s: %d %s", self.command, self.path, status, message)
        content = json.dumps({"code": status, "type": kind, "message": message}).encode()
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:
        """No access log (TorchServe keeps its own); refusals are logged by :meth:`refuse`."""


def open_guard(bind: str, port: int, route: Route) -> Guard:
    """Listen on ``bind:port`` in a daemon thread; ``shutdown()`` stops it."""
    guard = Guard((bind, port), route)
    threading.Thread(target=guard.serve_forever, name=f"guard-{port}", daemon=True).start()
    return guard
