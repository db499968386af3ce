"""Thin async client for the model server (TorchServe's inference and management HTTP APIs).

Only plain HTTP and JSON here, so another server answering the same routes could replace
TorchServe. Failures become the gateway's domain errors: the model server down, slow or failing
-> ``ModelUnavailable`` (503, ``Retry-After``); management 400/404/409 -> ``InvalidRequest`` /
``NotFound`` / ``Conflict``; an image the handler refuses (``{"error": code}``) -> that code's
4xx, never a "try again"; an answer for a crop other than :data:`core.parameters.CROP` -> 503.
With token authorization on the model server, each API gets its bearer key (a refused key is a
503: a deployment fault, not the caller's).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from core.parameters import CROP
from core.schemas import (
    CropInfo,
    FaceCheckAnswer,
    HandlerError,
    RegionsAnswer,
    TypeAnswer,
    TypeRequest,
)
from gateway.errors import (
    AppError,
    Conflict,
    ImageCorrupt,
    ImageTooLarge,
    ImageTooManyPixels,
    ImageTooSmall,
    ImageUnprocessable,
    InvalidRequest,
    ModelUnavailable,
    NotFound,
)

RETRY_AFTER = {"Retry-After": "5"}
MANAGEMENT_TIMEOUT_S = 180.0
AnswerT = TypeVar("AnswerT", bound=BaseModel)
CroppedT = TypeVar("CroppedT", RegionsAnswer, TypeAnswer)
OCTET_STREAM = {"Content-Type": "application/octet-stream"}  # else TorchServe parses a form
JSON = {"Content-Type": "application/json"}  # TorchServe's worker hands the handler a dict
HANDLER_ERRORS: dict[str, type[AppError]] = {  # per-request answers caused by the input: 4xx
    "image_corrupt": ImageCorrupt,
    "image_too_many_pixels": ImageTooManyPixels,
    "image_too_small": ImageTooSmall,
    "image_unprocessable": ImageUnprocessable,
}
MANAGEMENT_ERRORS: dict[int, type[AppError]] = {
    400: InvalidRequest,
    403: Conflict,  # e.g. unregistering the default version while others remain
    404: NotFound,
    409: Conflict,
}


def bearer(key: str | None) -> dict[str, str]:
    """The Authorization header for ``key``; none without one."""
    return {"Authorization": f"Bearer {key}"} if key else {}


def _message(response: httpx.Response) -> str:
    """TorchServe's error message ({"code", "type", "message"}) or the raw body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    return str(body.get("message", body)) if isinstance(body, dict) else str(body)


class ModelServerClient:
    """Predictions and model management; ``client`` is owned (and closed) by the caller."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        inference_url: str,
        management_url: str,
        management_timeout_s: float = MANAGEMENT_TIMEOUT_S,
        *,
        inference_key: str | None = None,
        management_key: str | None = None,
    ) -> None:
        self.client = client
        self.inference_url = inference_url.rstrip("/")
        self.management_url = management_url.rstrip("/")
        self.inference_auth = bearer(inference_key)
        self.management_auth = bearer(management_key)
        # Registering or scaling waits for workers to load a model: seconds when idle, far longer
        # than a prediction on a busy CPU. It gets its own budget, not the inference timeout.
        self.management_timeout = httpx.Timeout(management_timeout_s, connect=5.0)

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self.client.request(method, url, **kwargs)
        except httpx.TransportError as error:  # connect errors and timeouts
            detail = f"model server unreachable: {type(error).__name__}"
            raise ModelUnavailable(detail, headers=RETRY_AFTER) from error

    # Inference API
    async def predict(self, model: str, body: bytes | BaseModel, version: str | None = None) -> Any:
        """POST a raw image (or a JSON request of the contract) to
        ``/predictions/{model}[/{version}]``; the handler's JSON."""
        path = f"/predictions/{model}" + (f"/{version}" if version else "")
        content, headers = (
            (body.model_dump_json().encode(), JSON)
            if isinstance(body, BaseModel)
            else (body, OCTET_STREAM)
        )
        response = await self._send(
            "POST",
            self.inference_url + path,
            content=content,
            headers=headers | self.inference_auth,
        )
        if response.status_code == 413:
            raise ImageTooLarge(f"{model}: request body too large for the model server")
        if response.status_code != 200:
            detail = f"{model}: HTTP {response.status_code}: {_message(response)}"
            raise ModelUnavailable(detail, headers=RETRY_AFTER)
        try:
            return response.json()
        except ValueError as error:
            raise ModelUnavailable(f"{model}: answer is not JSON", headers=RETRY_AFTER) from error

    async def _answer(
        self, model: str, request: bytes | BaseModel, shape: type[AnswerT]
    ) -> AnswerT:
        """The handler's answer validated into its contract model (core.schemas)."""
        body = await self.predict(model, request)
        try:
            if isinstance(body, dict) and "error" in body:
                refused = HandlerError.model_validate(body)
                raise HANDLER_ERRORS[refused.error](f"{model}: {refused.error}")
            return shape.model_validate(body)
        except ValidationError as error:  # a contract break: the model server's fault
            detail = f"{model}: answer breaks the contract ({error.error_count()} errors)"
            raise ModelUnavailable(detail, headers=RETRY_AFTER) from error

    async def face_check(self, image: bytes) -> FaceCheckAnswer:
        """Every face, largest first."""
        return await self._answer("face_check", image, FaceCheckAnswer)

    async def _on_crop(
        self, model: str, crop: bytes | BaseModel, shape: type[CroppedT]
    ) -> CroppedT:
        """The answer for a face crop (or crops), refused when the model was trained on
        another crop."""
        answer = await self._answer(model, crop, shape)
        if answer.crop != CropInfo.served():
            detail = f"{model} expects the crop {answer.crop}, not core.parameters's {CROP}"
            raise ModelUnavailable(detail)  # a deployment of mismatched versions: no retry helps
        return answer

    async def face_regions(self, crop: bytes) -> RegionsAnswer:
        """Where the face parts are on an upright face crop."""
        return await self._on_crop("face_regions", crop, RegionsAnswer)

    async def face_type(self, crops: Sequence[bytes]) -> TypeAnswer:
        """Each region's type, the weighted score and the type of one to three upright face
        crops of one person, typed together, with their identity distances."""
        request = TypeRequest(crops=[base64.b64encode(crop).decode("ascii") for crop in crops])
        return await self._on_crop("face_type", request, TypeAnswer)

    async def ping(self) -> dict:
        """``GET /ping``: {"status": "Healthy"} (workers may not be READY yet)."""
        response = await self._send(
            "GET", self.inference_url + "/ping", headers=self.inference_auth
        )
        if response.status_code != 200:
            raise ModelUnavailable(_message(response), headers=RETRY_AFTER)
        return response.json()

    # Management API
    async def _manage(self, method: str, path: str, **params: Any) -> Any:
        query = {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()}
        response = await self._send(
            method,
            self.management_url + path,
            params={k: v for k, v in query.items() if v is not None},
            headers=self.management_auth,
            timeout=self.management_timeout,
        )
        if response.status_code in MANAGEMENT_ERRORS:
            raise MANAGEMENT_ERRORS[response.status_code](_message(response))
        if response.status_code >= 300:
            detail = f"management HTTP {response.status_code}: {_message(response)}"
            raise ModelUnavailable(detail, headers=RETRY_AFTER)
        return response.json()

    async def list_models(self) -> list[dict]:
        """Every registered model: [{"modelName", "modelUrl"}, ...] (all pages)."""
        models: list[dict] = []
        token: str | None = None
        while True:
            page = await self._manage("GET", "/models", limit=100, next_page_token=token)
            models += page.get("models", [])
            token = page.get("nextPageToken")
            if not token:
                return models

    async def describe(self, name: str, version: str | None = None) -> list[dict]:
        """Versions of ``name`` (the default one unless ``version``; "all" for every one)."""
        return await self._manage("GET", f"/models/{name}" + (f"/{version}" if version else ""))

    async def register(
        self, url_or_mar: str, *, initial_workers: int = 1, synchronous: bool = True
    ) -> dict:
        """Register an archive of the model store (e.g. "face_regions-2.0.mar")."""
        return await self._manage(
            "POST",
            "/models",
            url=url_or_mar,
            initial_workers=initial_workers,
            synchronous=synchronous,
        )

    async def set_default(self, name: str, version: str) -> dict:
        return await self._manage("PUT", f"/models/{name}/{version}/set-default")

    async def scale(
        self,
        name: str,
        min_worker: int,
        max_worker: int | None = None,
        version: str | None = None,
        *,
        synchronous: bool = True,
    ) -> dict:
        """Set the worker count of ``name`` (default version unless ``version``)."""
        path = f"/models/{name}" + (f"/{version}" if version else "")
        return await self._manage(
            "PUT",
            path,
            min_worker=min_worker,
            max_worker=max_worker if max_worker is not None else min_worker,
            synchronous=synchronous,
        )

    async def unregister(self, name: str, version: str | None = None) -> dict:
        return await self._manage("DELETE", f"/models/{name}" + (f"/{version}" if version else ""))
