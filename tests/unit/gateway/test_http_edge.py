"""The HTTP edge: the problem+json renderer, the one size check and the request body's limit,
schema errors told once, and the overload guard working with what it was given."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from core.parameters import MAX_PHOTOS
from db import migrate
from gateway.config import Settings
from gateway.errors import ImageTooLarge, NotFound
from gateway.imaging import decode_base64_image
from gateway.limits import FORM_ALLOWANCE, base64_length, check_size, request_body_limit
from gateway.main import create_app
from gateway.metrics import Metrics
from gateway.overload.limiter import AdaptiveLimit
from gateway.overload.middleware import OverloadGuard
from gateway.overload.queue import AdmissionQueue
from gateway.overload.ratelimit import Rate
from gateway.problems import PROBLEM_MEDIA_TYPE, problem_response
from gateway.validation import invalid_request
from tests.fixtures.app import CONSENT

ROOT = Path(__file__).resolve().parents[3]


# --- the renderer ---------------------------------------------------------------------------
def test_a_problem_is_rendered_with_its_media_type_status_headers_and_instance() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/v1/x", "headers": []})
    response = problem_response(request, NotFound("gone", headers={"Retry-After": "3"}))
    assert response.status_code == 404 and response.media_type == PROBLEM_MEDIA_TYPE
    assert response.headers["retry-after"] == "3"
    assert b'"instance":"/v1/x"' in response.body and b'"code":"not_found"' in response.body


@pytest.mark.parametrize(
    ("module", "never"),
    [("gateway.overload.middleware", "gateway.main"), ("gateway.problems", "gateway.main")],
)
def test_the_middleware_and_the_renderer_do_not_import_the_app(module: str, never: str) -> None:
    code = f"import sys, {module}; sys.exit({never!r} in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


# --- the size check -------------------------------------------------------------------------
def test_the_size_check_refuses_only_past_the_limit_and_names_the_image_limit() -> None:
    check_size(None, 10)  # unknown size: nothing to check
    check_size(10, 10)
    with pytest.raises(ImageTooLarge) as caught:
        check_size(11, 10)
    assert caught.value.status == 413 and caught.value.extra["max_bytes"] == 10
    with pytest.raises(ImageTooLarge) as caught:
        check_size(70_000, 69_000, subject="The request body", max_bytes=3000)
    assert caught.value.detail.startswith("The request body is 70000 bytes")
    assert caught.value.extra["max_bytes"] == 3000  # the hint names the image limit


def test_the_body_limit_is_three_images_in_base64_and_room_for_the_rest() -> None:
    assert [base64_length(n) for n in (0, 1, 2, 3, 4)] == [0, 4, 4, 4, 8]
    assert base64_length(3000) == len(base64.b64encode(bytes(3000)))
    assert request_body_limit(3000) == MAX_PHOTOS * 4000 + FORM_ALLOWANCE


@pytest.mark.parametrize("size", [2998, 2999, 3000, 3001, 3002])
@pytest.mark.parametrize("padded", [True, False])
def test_base64_is_refused_by_exactly_the_size_it_decodes_to(size: int, padded: bool) -> None:
    value = base64.b64encode(bytes(size)).decode()
    value = value if padded else value.rstrip("=")
    if size <= 3000:
        assert decode_base64_image(value, max_bytes=3000) == bytes(size)
    else:
        with pytest.raises(ImageTooLarge) as caught:
            decode_base64_image(value, max_bytes=3000)
        assert caught.value.detail == f"The image is {size} bytes; at most 3000."


# --- schema errors --------------------------------------------------------------------------
class Form(BaseModel):
    image: str
    mbti: str


def test_schema_errors_are_told_once_whichever_way_they_come() -> None:
    with pytest.raises(ValidationError) as caught:
        Form.model_validate({"mbti": 3})
    plain = invalid_request(caught.value.errors())
    located = invalid_request(
        [{**e, "loc": ("body", *e["loc"])} for e in caught.value.errors()], located=True
    )
    for error in (plain, located):
        assert error.code == "invalid_request" and error.status == 422
        assert error.detail == "image: Field required"
        assert error.extra["errors"] == [
            {"field": "image", "message": "Field required"},
            {"field": "mbti", "message": "Input should be a valid string"},
        ]
    whole = invalid_request([{"loc": ("body",), "msg": "JSON decode error"}], located=True)
    assert whole.detail == "body: JSON decode error"
    assert invalid_request([]).detail == "Invalid request"


# --- through the app ------------------------------------------------------------------------
@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        var_dir=tmp_path,
        max_upload_bytes=3000,
        rate_limit_quota=0,
        admission_enabled=False,
        model_inference_url="http://127.0.0.1:9",
    )
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


def assert_too_large(response: httpx.Response, detail: str) -> None:
    problem = response.json()
    assert response.status_code == 413 and problem["code"] == "image_too_large", problem
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert problem["detail"].startswith(detail) and problem["max_bytes"] == 3000


async def test_a_body_declaring_more_than_the_limit_is_answered_unread(
    client: httpx.AsyncClient,
) -> None:
    length = str(request_body_limit(3000) + 1)
    for method, path in (("POST", "/v1/analyses"), ("GET", "/v1/types")):
        response = await client.request(
            method, path, content=b"{}", headers={"content-length": length}
        )
        assert_too_large(response, f"The request body is {length} bytes")


async def test_a_body_streaming_past_the_limit_is_refused(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"image_base64": "'
        for _ in range(20):
            yield b"A" * 4096

    response = await client.post(
        "/v1/analyses", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_too_large(response, "The request body read so far is")


async def test_every_upload_path_refuses_with_the_same_check(client: httpx.AsyncClient) -> None:
    fields = {"mbti": "INTJ", "birth_date": "1990-01-01", "consent": CONSENT}
    image = b"\xff\xd8\xff" + bytes(3001)
    files = {"image": ("x.jpg", image, "image/jpeg")}
    response = await client.post("/v1/analyses", data=fields, files=files)
    assert_too_large(response, "The image is 3004 bytes; at most 3000.")
    encoded = base64.b64encode(image).decode()
    response = await client.post("/v1/analyses", json=fields | {"image_base64": encoded})
    assert_too_large(response, "The image is 3004 bytes; at most 3000.")
    legacy = {
        "first_user": {"user_img": encoded, "age": "1990-01-01", "mbti": "INTJ"},
        "consent": CONSENT,
    }
    response = await client.post("/api/RegisterResult", json=legacy)
    assert_too_large(response, "The image is 3004 bytes; at most 3000.")


async def test_both_kinds_of_schema_error_have_one_shape(client: httpx.AsyncClient) -> None:
    answers = [
        await client.post("/v1/analyses", json={"mbti": "INTJ", "birth_date": "1990-01-01"}),
        await client.post("/api/RegisterResult", json={"first_user": {"age": "1990-01-01"}}),
    ]
    for response in answers:
        problem = response.json()
        assert response.status_code == 422 and problem["code"] == "invalid_request", problem
        first = problem["errors"][0]
        assert problem["detail"] == f"{first['field']}: {first['message']}"
    assert answers[0].json()["errors"][0]["field"] == "image_base64"
    assert answers[1].json()["errors"][0]["field"] == "first_user.user_img"


# --- the overload guard, given its bound ------------------------------------------------------
async def call(guard: OverloadGuard, app: object) -> list[Message]:
    sent: list[Message] = []
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/analyses",
        "headers": [],
        "client": ("203.0.113.1", 1),
        "app": app,  # what Starlette puts in every scope
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await guard(scope, receive, send)
    return sent


async def created(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def test_the_guard_reads_the_context_the_lifespan_made() -> None:
    guard, app = OverloadGuard(created), SimpleNamespace(state=SimpleNamespace())
    assert (await call(guard, app))[0]["status"] == 201  # no context yet: nothing is limited
    admission = AdmissionQueue(AdaptiveLimit(initial=1), 0.0)
    app.state.context = SimpleNamespace(  # what the lifespan does
        admission=admission, rate_store=None, rate=Rate(5, 60.0), metrics=Metrics()
    )
    admission.limit.try_acquire()  # the one place is taken
    refused = await call(guard, app)
    assert refused[0]["status"] == 503
    assert (b"content-type", PROBLEM_MEDIA_TYPE.encode()) in refused[0]["headers"]
    admission.release(None)
    assert (await call(guard, app))[0]["status"] == 201 and admission.limit.in_flight == 0
