"""The model server's guard, in front of a stand-in for TorchServe that records what reaches it.

The real TorchServe with token auth behind real guards: tests/integration/test_torchserve_auth.py.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from model_server.tools import guard, serve
from tests.fixtures.services import free_ports

CALLER_KEY = "k" * 32  # what the gateway sends
TORCHSERVE_KEY = "ts-own-key"  # what TorchServe expects


@dataclass
class Upstream:
    port: int
    seen: list[tuple[str, str, str | None, bytes]] = field(default_factory=list)


@pytest.fixture(scope="module")
def stand_in() -> Iterator[Upstream]:
    record = Upstream(free_ports(1)[0])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # like TorchServe's netty: no stall of its own

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            record.seen.append((self.command, self.path, self.headers["Authorization"], body))
            answer = json.dumps({"echo": len(body)}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Model", "face_check")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", record.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield record
    server.shutdown()
    server.server_close()


@pytest.fixture
def upstream(stand_in: Upstream) -> Upstream:
    stand_in.seen.clear()
    return stand_in


@pytest.fixture(scope="module")
def port(stand_in: Upstream) -> Iterator[int]:
    [listen] = free_ports(1)
    route = guard.Route(CALLER_KEY, "127.0.0.1", stand_in.port, TORCHSERVE_KEY)
    front = guard.open_guard("127.0.0.1", listen, route)
    yield listen
    front.shutdown()
    front.server_close()


def ask(
    port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


BEARER = {"Authorization": f"Bearer {CALLER_KEY}"}


def test_a_request_with_the_key_reaches_torchserve_with_torchserves_key(
    port: int, upstream: Upstream
) -> None:
    status, headers, body = ask(port, "POST", "/predictions/face_check?x=1", b"photo", BEARER)
    assert (status, json.loads(body), headers["X-Model"]) == (201, {"echo": 5}, "face_check")
    assert upstream.seen == [
        ("POST", "/predictions/face_check?x=1", f"Bearer {TORCHSERVE_KEY}", b"photo")
    ]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", f"Basic {CALLER_KEY}", f"Bearer {TORCHSERVE_KEY}", CALLER_KEY],
)
def test_without_the_key_nothing_reaches_torchserve(
    port: int, upstream: Upstream, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    status, _, body = ask(port, "POST", "/predictions/face_check", b"photo", headers)
    assert (status, json.loads(body)["type"]) == (401, "Unauthorized")
    assert upstream.seen == []


def test_ping_alone_is_open_for_health_checks(port: int, upstream: Upstream) -> None:
    assert ask(port, "GET", "/ping")[0] == 201
    assert ask(port, "POST", "/ping")[0] == 401
    assert ask(port, "GET", "/ping?x")[0] == 401
    assert upstream.seen == [("GET", "/ping", f"Bearer {TORCHSERVE_KEY}", b"")]


def test_each_request_of_a_kept_alive_connection_is_checked(port: int, upstream: Upstream) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/predictions/face_check", body=b"one", headers=BEARER)
    assert connection.getresponse().read() == b'{"echo": 3}'
    connection.request("POST", "/predictions/face_check", body=b"two")
    assert connection.getresponse().status == 401
    connection.close()
    assert [body for *_, body in upstream.seen] == [b"one"]


def test_the_guard_adds_no_delayed_ack_stall(
    port: int, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard writes an answer's headers and body apart: without TCP_NODELAY on the client's
    connection the body waits for the client's delayed ACK (measured: +30 to 55 ms a request).
    Asserted on each connection's socket, not on how long a request took on this machine."""
    nodelay: list[int] = []
    relay = guard.GuardHandler.relay

    def relay_and_record(handler: guard.GuardHandler) -> None:
        nodelay.append(handler.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        relay(handler)

    monkeypatch.setattr(guard.GuardHandler, "relay", relay_and_record)
    for _ in range(2):  # two connections, two kept-alive requests on each
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(2):
            connection.request("POST", "/predictions/face_check", body=b"photo", headers=BEARER)
            assert connection.getresponse().read() == b'{"echo": 5}'
        connection.close()
    assert len(nodelay) == 4 and all(nodelay), nodelay


def test_unframed_oversized_and_unreachable(port: int, upstream: Upstream) -> None:
    chunked = {**BEARER, "Transfer-Encoding": "chunked"}
    assert ask(port, "POST", "/predictions/face_check", b"", chunked)[0] == 411
    too_large = {**BEARER, "Content-Length": str(guard.MAX_BODY_BYTES + 1)}
    assert ask(port, "POST", "/predictions/face_check", b"", too_large)[0] == 413
    assert upstream.seen == []
    [nothing] = free_ports(1)
    route = guard.Route(CALLER_KEY, "127.0.0.1", nothing, TORCHSERVE_KEY)
    [listen] = free_ports(1)
    lost = guard.open_guard("127.0.0.1", listen, route)
    try:
        status, _, body = ask(listen, "GET", "/ping")
        assert (status, json.loads(body)["type"]) == (502, "BadGateway")
    finally:
        lost.shutdown()
        lost.server_close()


def test_the_deployment_keys_come_from_the_environment() -> None:
    inference, management = guard.ENVIRONMENT.values()
    assert guard.deployment_keys({inference: CALLER_KEY}) == {"inference": CALLER_KEY}
    both = {inference: CALLER_KEY, management: "m" * 40}
    assert guard.deployment_keys(both) == {"inference": CALLER_KEY, "management": "m" * 40}
    with pytest.raises(guard.GuardError, match=inference):
        guard.deployment_keys({management: "m" * 40})
    with pytest.raises(guard.GuardError, match="at least 32"):
        guard.deployment_keys({inference: "short"})


def test_token_auth_config_turns_torchserve_s_own_authorization_on(tmp_path) -> None:
    template = serve.TEMPLATE.read_text()
    ports = dict(serve.DEFAULT_PORTS)
    plain = serve.render_config(template, store=tmp_path, ports=ports, models=["face_check"])
    assert "disable_token_authorization=true" in plain.splitlines()
    guarded = serve.render_config(
        template, store=tmp_path, ports=ports, models=["face_check"], token_auth=True
    ).splitlines()
    assert "disable_token_authorization=false" in guarded
    assert f"token_expiration_min={serve.TOKEN_EXPIRATION_MIN}" in guarded
    assert "disable_token_authorization=true" not in guarded


def test_token_auth_needs_the_foreground() -> None:
    with pytest.raises(SystemExit):
        serve.parse_args(["start", "--store", "s", "--token-auth"])
    assert serve.parse_args(["start", "--store", "s", "--token-auth", "--foreground"]).token_auth


def test_the_images_command_stops_before_starting_without_its_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in guard.ENVIRONMENT.values():
        monkeypatch.delenv(name, raising=False)
    command = ["start", "--store", str(tmp_path), "--var", str(tmp_path)]
    assert serve.main([*command, "--token-auth", "--foreground"]) == 1
    assert "ALPHAMALE_MODEL_INFERENCE_KEY is not set" in capsys.readouterr().err
    assert not serve.Paths.under(tmp_path).root.exists()  # nothing was started
