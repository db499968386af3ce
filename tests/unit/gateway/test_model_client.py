"""The model server client at its boundary: what TorchServe answers becomes a domain outcome.

TorchServe itself is faked here (``httpx.MockTransport``) because the faults under test, an
answer for another crop and a handler's refusal, are its answers; the real server is exercised
in ``tests/integration/test_torchserve.py``.
"""

from __future__ import annotations

import httpx
import pytest

from core.parameters import CROP
from core.schemas import TypeRequest
from gateway.clients.torchserve import ModelServerClient
from gateway.errors import AppError, ImageTooManyPixels, ModelUnavailable
from tests.unit.gateway.test_analysis_service import regions, typed


def client_answering(body: dict) -> ModelServerClient:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    return ModelServerClient(httpx.AsyncClient(transport=transport), "http://ts", "http://ts-mgmt")


@pytest.mark.parametrize(
    ("model", "answer", "sent"),
    [
        ("face_regions", regions(True, True, True), b"crop"),
        ("face_type", typed("beta", "beta", "beta"), [b"crop"]),
    ],
)
async def test_an_answer_for_the_crop_sent_is_taken_and_another_crop_is_refused(
    model: str, answer: dict, sent: object
) -> None:
    ask = getattr(client_answering(answer), model)
    assert (await ask(sent)).crop.size == CROP.size
    other = answer | {"crop": {"margin": CROP.margin + 0.1, "size": CROP.size}}
    with pytest.raises(ModelUnavailable, match="expects the crop"):
        await getattr(client_answering(other), model)(sent)


async def test_face_type_gets_every_crop_in_one_json_request() -> None:
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=typed("beta", "beta", "beta") | {"photos": 3})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    typed_answer = await ModelServerClient(http, "http://ts", "http://m").face_type(
        [b"a", b"bb", b"c"]
    )
    [request] = requests
    assert request.headers["content-type"] == "application/json"
    assert TypeRequest.model_validate_json(request.content).crops == ["YQ==", "YmI=", "Yw=="]
    assert typed_answer.photos == 3


@pytest.mark.parametrize(
    ("refusal", "error"),
    [("image_too_many_pixels", ImageTooManyPixels), ("image_too_large", ModelUnavailable)],
)
async def test_a_handler_refusal_is_its_4xx_and_an_unknown_one_breaks_the_contract(
    refusal: str, error: type[AppError]
) -> None:
    with pytest.raises(error):
        await client_answering({"error": refusal}).face_check(b"photo")


async def test_each_api_gets_its_own_bearer_key_and_none_without_keys() -> None:
    """Inference calls (predictions, ping) carry the inference key and management calls the
    management key; a client without keys sends no Authorization header at all."""
    seen: list[tuple[str, str | None]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((f"{request.url.host}{request.url.path}", request.headers.get("Authorization")))
        return httpx.Response(200, json={"models": [], "status": "Healthy"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    keyed = ModelServerClient(
        http, "http://ts", "http://ts-mgmt", inference_key="in-key", management_key="mgmt-key"
    )
    plain = ModelServerClient(http, "http://ts", "http://ts-mgmt")
    for client in (keyed, plain):
        await client.predict("face_check", b"photo")
        await client.ping()
        await client.list_models()
    assert seen == [
        ("ts/predictions/face_check", "Bearer in-key"),
        ("ts/ping", "Bearer in-key"),
        ("ts-mgmt/models", "Bearer mgmt-key"),
        ("ts/predictions/face_check", None),
        ("ts/ping", None),
        ("ts-mgmt/models", None),
    ]
