"""The gateway's API on real PostgreSQL and a real S3 API, without a model server.

Every bad input must be answered with its 4xx code before the model server is asked (none is
running: reaching it would answer 503) and must leave nothing stored.
"""

from __future__ import annotations

import asyncio
import base64
import io
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from PIL import Image

from gateway.errors import (
    AppError,
    ImageTooLarge,
    InvalidBirthDate,
    InvalidMbti,
    InvalidRequest,
    UnsupportedMediaType,
)
from gateway.limits import request_body_limit
from gateway.models_admin.deps import get_models
from gateway.models_admin.schemas import VERSION_PATTERN
from tests.corpus import bad_base64, bad_images
from tests.fixtures.app import ADMIN, CONSENT, Api, running, settings_for
from tests.fixtures.services import free_port
from tests.fixtures.torchserve import TorchServeInstance

PROBLEM = "application/problem+json"
STATUSES = {error.code: error.status for error in AppError.__subclasses__()}  # code -> status


def jpeg(size: tuple[int, int] = (256, 256)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (180, 150, 120)).save(buffer, "JPEG")
    return buffer.getvalue()


def form(image: bytes, mbti: str = "INTJ", birth: str = "1995-04-17") -> dict:
    return {
        "data": {"mbti": mbti, "birth_date": birth, "consent": CONSENT},
        "files": {"image": ("selfie.jpg", image, "image/jpeg")},
    }


def assert_problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code and body["status"] == status
    assert body["hint"] and body["title"] and "Traceback" not in response.text


async def test_types_are_listed_and_described(api: Api) -> None:
    response = await api.client.get("/v1/types")
    assert response.status_code == 200
    assert [t["slug"] for t in response.json()] == ["alpha", "beta", "gamma", "delta", "omega"]
    beta = (await api.client.get("/v1/types/BETA")).json()
    assert beta["name"] == "Beta" and beta["rank"] == 2 and beta["description_ko"]
    assert_problem(await api.client.get("/v1/types/sigma"), 404, "not_found")


async def test_bad_images_are_refused_and_nothing_is_stored(api: Api) -> None:
    cases = bad_images()
    assert len(cases) >= 25
    for case in cases:
        response = await api.client.post("/v1/analyses", **form(case.data))
        assert_problem(response, STATUSES[case.code], case.code)
    assert await api.nothing_stored()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"mbti": "ABCD"}, "invalid_mbti"),
        ({"mbti": ""}, "invalid_mbti"),
        ({"mbti": "INTJX"}, "invalid_mbti"),
        ({"mbti": " INTJ"}, "invalid_mbti"),  # the documented pattern, exactly
        ({"birth": "19950417"}, "invalid_birth_date"),  # ISO, but not the documented YYYY-MM-DD
        ({"birth": (date.today() + timedelta(days=1)).isoformat()}, "invalid_birth_date"),
        ({"birth": date.today().isoformat()}, "invalid_birth_date"),
        ({"birth": "2020-02-30"}, "invalid_birth_date"),
        ({"birth": "not-a-date"}, "invalid_birth_date"),
        ({"birth": (date.today() - timedelta(days=365 * 10)).isoformat()}, "invalid_birth_date"),
        ({"birth": "1850-01-01"}, "invalid_birth_date"),
    ],
)
async def test_bad_answers_are_refused(api: Api, fields: dict, code: str) -> None:
    response = await api.client.post("/v1/analyses", **form(jpeg(), **fields))
    assert_problem(response, 422, code)
    assert await api.nothing_stored()


async def test_bad_requests_are_refused(api: Api) -> None:
    cases = [
        ({"content": b"{}", "headers": {"content-type": "text/plain"}}, 422, "invalid_request"),
        ({"json": {"mbti": "INTJ", "birth_date": "1990-01-01"}}, 422, "invalid_request"),
        (
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            422,
            "invalid_request",
        ),
        ({"data": {"mbti": "INTJ", "birth_date": "1990-01-01"}}, 422, "invalid_request"),
    ]
    for value in bad_base64():
        body = {"image_base64": value.value, "mbti": "INTJ", "birth_date": "1990-01-01"}
        cases.append(({"json": body}, STATUSES[value.code], value.code))
    for kwargs, status, code in cases:
        assert_problem(await api.client.post("/v1/analyses", **kwargs), status, code)

    async def endless_chunks(content_type: bytes):  # chunked: no content-length to check
        yield content_type
        for _ in range(request_body_limit(api.settings.max_upload_bytes) // 2**20 + 1):
            yield b"A" * 1024 * 1024

    for content_type in (
        b'{"image_base64": "',
        b'--b\r\nContent-Disposition: form-data; name="image"; filename="x.jpg"\r\n\r\n',
    ):
        kind = (
            "application/json"
            if content_type.startswith(b"{")
            else "multipart/form-data; boundary=b"
        )
        response = await api.client.post(
            "/v1/analyses", content=endless_chunks(content_type), headers={"content-type": kind}
        )
        assert_problem(response, ImageTooLarge.status, ImageTooLarge.code)
    declared = str(request_body_limit(api.settings.max_upload_bytes) + 1)  # three photos' worth
    huge = {"content-type": "application/json", "content-length": declared}
    response = await api.client.post("/v1/analyses", content=b"{}", headers=huge)
    assert_problem(response, ImageTooLarge.status, ImageTooLarge.code)
    assert await api.nothing_stored()


async def test_model_server_down_is_503_with_retry_after(api: Api) -> None:
    response = await api.client.post("/v1/analyses", **form(jpeg()))
    assert_problem(response, 503, "model_unavailable")
    assert int(response.headers["retry-after"]) > 0
    body = {
        "image_base64": "data:image/jpeg;base64," + base64.b64encode(jpeg()).decode(),
        "mbti": "enfp",
        "birth_date": "2001-12-31",
        "consent": CONSENT,
    }
    assert_problem(await api.client.post("/v1/analyses", json=body), 503, "model_unavailable")
    legacy = {
        "first_user": {"user_img": body["image_base64"], "age": "1990-01-01", "mbti": "ESTJ"},
        "result": {},
        "consent": CONSENT,
    }
    assert_problem(
        await api.client.post("/api/RegisterResult", json=legacy), 503, "model_unavailable"
    )
    assert await api.nothing_stored()


async def test_slow_model_server_is_503(tmp_path, pg_database, s3_endpoint) -> None:
    """A model server that accepts connections but never answers."""
    port = free_port()

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", port)
    settings = settings_for(
        tmp_path,
        pg_database,
        s3_endpoint,
        model_inference_url=f"http://127.0.0.1:{port}",
        model_timeout_s=0.5,
    )
    async with server, running(settings) as api:
        response = await api.client.post("/v1/analyses", **form(jpeg()))
        assert_problem(response, 503, "model_unavailable")
        assert int(response.headers["retry-after"]) > 0
        assert await api.nothing_stored()
        server.close()


async def test_legacy_bad_input_is_a_problem(api: Api) -> None:
    """Each bad legacy request gets its own error's status and code, as problem+json."""
    good = base64.b64encode(jpeg()).decode()
    gif = base64.b64encode(b"GIF89a....").decode()
    cases: list[tuple[dict, type[AppError]]] = [
        ({"first_user": {"user_img": good, "age": "1990-01-01", "mbti": "XXXX"}}, InvalidMbti),
        (
            {"first_user": {"user_img": good, "age": "2090-01-01", "mbti": "ESTJ"}},
            InvalidBirthDate,
        ),
        (
            {"first_user": {"user_img": "!!!", "age": "1990-01-01", "mbti": "ESTJ"}},
            InvalidRequest,
        ),
        ({"first_user": {"age": "1990-01-01", "mbti": "ESTJ"}}, InvalidRequest),
        (
            {"first_user": {"user_img": gif, "age": "1990-01-01", "mbti": "ESTJ"}},
            UnsupportedMediaType,
        ),
    ]
    for body, error in cases:
        response = await api.client.post("/api/RegisterResult", json=body | {"consent": CONSENT})
        assert_problem(response, error.status, error.code)
    assert await api.nothing_stored()


async def test_unknown_and_deleted_analyses(api: Api) -> None:
    assert_problem(await api.client.get("/v1/analyses/nope"), 404, "not_found")
    response = await api.client.delete("/v1/analyses/nope", headers={"X-Delete-Token": "x"})
    assert_problem(response, 404, "not_found")
    assert_problem(await api.client.get("/no/such/route"), 404, "not_found")
    assert_problem(await api.client.put("/v1/types"), 405, "method_not_allowed")


async def test_405_names_every_method_of_the_path(api: Api) -> None:
    response = await api.client.request("OPTIONS", "/v1/analyses/some-id")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "DELETE, GET"
    assert (await api.client.patch("/v1/types")).headers["allow"] == "GET"


async def test_a_tiny_image_is_refused_before_any_model_call(api: Api) -> None:
    """No model server runs here: a model call would be 503, never this 422."""
    for size in ((1, 1), (47, 400), (400, 40)):
        buffer = io.BytesIO()
        Image.new("RGB", size, (180, 150, 120)).save(buffer, "PNG")
        response = await api.client.post("/v1/analyses", **form(buffer.getvalue()))
        assert_problem(response, 422, "image_too_small")
        assert response.json()["min_side"] == api.settings.min_image_side == 48
    assert await api.nothing_stored()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"nickname": "x"}, "invalid_request"),  # the schema allows no other field
        ({"share_opt_in": "yes"}, "invalid_request"),  # a boolean: true or false
    ],
)
async def test_the_form_is_held_to_its_schema(api: Api, fields: dict, code: str) -> None:
    request = form(jpeg())
    request["data"] |= fields
    assert_problem(await api.client.post("/v1/analyses", **request), 422, code)
    assert await api.nothing_stored()


async def test_admin_is_off_without_a_token(tmp_path, pg_database) -> None:
    async with running(settings_for(tmp_path, pg_database, None, admin_token=None)) as api:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
            response = await api.client.get("/v1/admin/models", headers=headers)
            assert_problem(response, 401, "unauthorized")


async def test_admin_needs_the_token(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        response = await api.client.get("/v1/admin/catalog", headers=headers)
        assert_problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"


async def test_a_catalog_image_is_refused_while_no_model_server_can_describe_it(
    api: Api,
) -> None:
    """Its face descriptor (look-alikes) comes from the model server: down, 503 and nothing
    stored; the operator tries again."""
    response = await api.client.post(
        "/v1/admin/catalog",
        headers=ADMIN,
        data={"type": "alpha"},
        files={"image": ("x.jpg", jpeg(), "image/jpeg")},
    )
    assert_problem(response, 503, "model_unavailable")
    assert await api.object_keys("catalog/") == []


@pytest.mark.torchserve
async def test_admin_catalog_upload_list_delete(
    tmp_path: Path, pg_database: str, torchserve: TorchServeInstance
) -> None:
    urls = {
        "model_inference_url": torchserve.inference_url,
        "model_management_url": torchserve.management_url,
    }
    async with running(settings_for(tmp_path, pg_database, None, **urls)) as api:
        await catalog_upload_list_delete(api)


async def catalog_upload_list_delete(api: Api) -> None:
    await api.add_catalog(per_type=2)
    listed = (
        await api.client.get("/v1/admin/catalog", headers=ADMIN, params={"type": "gamma"})
    ).json()
    assert len(listed) == 2 and all(i["type"] == "gamma" for i in listed)
    assert not any(i["has_face"] for i in listed)  # flat generated images
    everything = (await api.client.get("/v1/admin/catalog", headers=ADMIN)).json()
    assert len(everything) == 10
    assert len(await api.object_keys("catalog/")) == 10
    target = listed[0]["id"]
    assert (
        await api.client.delete(f"/v1/admin/catalog/{target}", headers=ADMIN)
    ).status_code == 204
    assert len(await api.object_keys("catalog/")) == 9
    assert_problem(
        await api.client.delete(f"/v1/admin/catalog/{target}", headers=ADMIN), 404, "not_found"
    )
    bad = await api.client.post(
        "/v1/admin/catalog",
        headers=ADMIN,
        data={"type": "alpha"},
        files={"image": ("x.gif", b"GIF89a" + bytes(100), "image/gif")},
    )
    assert_problem(bad, 415, "unsupported_media_type")
    wrong_type = await api.client.post(
        "/v1/admin/catalog",
        headers=ADMIN,
        data={"type": "sigma"},
        files={"image": ("x.jpg", jpeg(), "image/jpeg")},
    )
    assert_problem(wrong_type, 422, "invalid_request")
    assert len(await api.object_keys("catalog/")) == 9


async def test_admin_register_outlasts_the_prediction_timeout(
    tmp_path, pg_database, s3_endpoint
) -> None:
    """Loading a worker on a busy CPU takes longer than a prediction may: registration waits.

    The management API here answers after 3 s (a slow worker load); predictions may take 0.5 s.
    """
    port = free_port()
    registered = b'{"status": "Model \\"face_regions\\" Version: 2.0 registered with 1 workers"}'

    async def slow_register(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(3)
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        head += f"Content-Length: {len(registered)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode() + registered)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(slow_register, "127.0.0.1", port)
    url = f"http://127.0.0.1:{port}"
    settings = settings_for(
        tmp_path,
        pg_database,
        s3_endpoint,
        model_inference_url=url,
        model_management_url=url,
        model_timeout_s=0.5,
        model_management_timeout_s=60,
    )
    async with server, running(settings) as api:
        response = await api.client.post(
            "/v1/admin/models", headers=ADMIN, json={"archive": "face_regions-2.0.mar"}
        )
        assert response.status_code == 201, response.text
        assert "registered" in response.json()["status"]
        slow_prediction = await api.client.post("/v1/analyses", **form(jpeg()))
        assert_problem(slow_prediction, 503, "model_unavailable")
        server.close()


async def test_admin_model_register_refuses_urls(api: Api) -> None:
    for archive in (
        "http://evil.example/x.mar",
        "../face_regions.mar",
        "face_regions.zip",
        "other.mar",
    ):
        response = await api.client.post(
            "/v1/admin/models", headers=ADMIN, json={"archive": archive}
        )
        assert_problem(response, 422, "invalid_request")


class RecordingModels:
    """Stands in for the model server's client: records each call and answers it done."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> dict[str, Any]:
            self.calls.append((name, args))
            return {"status": f"{name} done"}

        return call


# Versions VERSION_PATTERN refuses: a way out of the path, dots alone or doubled, a space, none,
# and one too long for it (32 characters at most)
BAD_VERSIONS = ["../1.0", "1.0/..", "1.0/../../models", "..", "1..0", ".1", "1.0-", "a b", ""]
BAD_VERSIONS += ["9" * 33]


async def test_admin_model_versions_are_held_to_their_pattern(api: Api) -> None:
    """The bug this holds: a model version went unchecked into TorchServe's management URL
    (``/models/{name}/{version}/set-default``), so ``../`` reached its other paths. A version
    that does not match VERSION_PATTERN is a 422 ``invalid_request`` in a body (default,
    workers) and in the unregister path (a 404 ``not_found`` when it holds a ``/``: no route has
    it), and the model server's client is never called; a good version reaches it."""
    models = RecordingModels()
    api.app.dependency_overrides[get_models] = lambda: models
    for version in BAD_VERSIONS:
        assert not (re.fullmatch(VERSION_PATTERN, version) and len(version) <= 32), version
        sent: list[tuple[str, str, dict[str, Any], str]] = [
            ("PUT", "default", {"json": {"version": version}}, "invalid_request"),
            ("PUT", "workers", {"json": {"min_workers": 1, "version": version}}, "invalid_request"),
        ]
        if version not in ("", ".."):  # the URL itself drops these path segments
            path = f"versions/{quote(version, safe='')}"  # a "/" sent as %2F
            sent.append(("DELETE", path, {}, "not_found" if "/" in version else "invalid_request"))
        for method, path, arguments, code in sent:
            response = await api.client.request(
                method, f"/v1/admin/models/face_type/{path}", headers=ADMIN, **arguments
            )
            assert_problem(response, 404 if code == "not_found" else 422, code)
    assert models.calls == []

    good = await api.client.put(
        "/v1/admin/models/face_type/default", headers=ADMIN, json={"version": "2.0-rc1"}
    )
    gone = await api.client.delete("/v1/admin/models/face_type/versions/2.0_b", headers=ADMIN)
    assert good.status_code == gone.status_code == 200, (good.text, gone.text)
    assert models.calls == [
        ("set_default", ("face_type", "2.0-rc1")),
        ("unregister", ("face_type", "2.0_b")),
    ]


async def test_health_readiness_metrics_and_docs(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 503  # no model server
    checks = ready.json()["checks"]
    assert checks["database"]["status"] == "up" and checks["storage"]["status"] == "up"
    assert checks["model_server"]["status"] == "down"
    await api.client.post("/v1/analyses", **form(jpeg(), mbti="nope"))
    metrics = (await api.client.get("/metrics")).text
    assert 'alphamale_analyses_total{client="web",outcome="invalid_mbti"} 1.0' in metrics
    assert "alphamale_http_request_seconds_bucket" in metrics
    spec = (await api.client.get("/openapi.json")).json()
    body = spec["paths"]["/v1/analyses"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(body)
    assert (await api.client.get("/docs")).status_code == 200
