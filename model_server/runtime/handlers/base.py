"""What the TorchServe handlers share: :class:`ImageHandler` and the per-request helpers.

Each handler reads its settings from the ``handler:`` section of the archive's model-config yaml
(``context.model_yaml_config``), pins torch to ``num_threads`` threads (default 1: TorchServe
sets none, and two busy threads on two cores were measured 20x slower), and answers a batch
request by request: an unreadable image gets ``{"error": "image_corrupt"}``, one below the
handler's ``min_side`` ``{"error": "image_too_small"}``, one over
:data:`core.parameters.MAX_PIXELS` ``{"error": "image_too_many_pixels"}``, and one the model
fails on ``{"error": "image_unprocessable"}``, without failing the rest of the batch (a raised
exception would be TorchServe's 503 for every request in it, which a client would retry in vain).
"""

from __future__ import annotations

import io
import logging
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from PIL import Image
from pydantic import BaseModel
from ts.torch_handler.base_handler import BaseHandler

from core.parameters import MAX_PIXELS, RETIRED_CONFIG_KEYS
from core.schemas import HandlerError

log = logging.getLogger(__name__)
T = TypeVar("T")
In = TypeVar("In")  # a decoded input: an image, or a request's images


@dataclass(frozen=True)
class RequestError:
    """A per-request failure, answered as ``{"error": code}``."""

    code: str

    def as_dict(self) -> dict[str, str]:
        return HandlerError(error=self.code).model_dump()  # type: ignore[arg-type]


def handler_config(context: Any) -> dict[str, Any]:
    """The ``handler:`` section of the model-config yaml (empty when absent)."""
    yaml_config = getattr(context, "model_yaml_config", None) or {}
    return dict(yaml_config.get("handler") or {})


def request_body(request: Any) -> Any:
    """The payload of one TorchServe request (under ``data`` or ``body``)."""
    if isinstance(request, dict):
        body = request.get("data")
        return request.get("body") if body is None else body
    return request


def decode_image(
    body: Any, max_pixels: int = MAX_PIXELS, min_side: int = 1
) -> Image.Image | RequestError:
    """An RGB image from raw bytes, or the reason it cannot be one."""
    if not isinstance(body, bytes | bytearray) or not body:
        return RequestError("image_corrupt")
    try:
        with Image.open(io.BytesIO(body)) as image:
            if image.width * image.height > max_pixels:
                return RequestError("image_too_many_pixels")
            if min(image.size) < min_side:
                return RequestError("image_too_small")
            return image.convert("RGB")  # forces a full decode: truncated files fail here
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return RequestError("image_corrupt")


def predict_each(
    data: Sequence[In | RequestError],
    predict: Callable[[list[In]], list[T]],
) -> list[tuple[In, T] | RequestError]:
    """Each decoded input (an image; for ``face_type``, a request's images) with its
    ``predict`` result (one batch), errors kept in place.

    When the batch fails, each input is tried alone, so an input the model cannot take fails
    alone, as ``image_unprocessable``.
    """
    inputs = [item for item in data if not isinstance(item, RequestError)]
    try:
        results: list[T | RequestError] = list(predict(inputs)) if inputs else []
    except Exception:
        results = [_predict_one(predict, item) for item in inputs]
    paired = iter(zip(inputs, results, strict=True))
    return [item if isinstance(item, RequestError) else _pair(*next(paired)) for item in data]


def _pair(item: In, result: T | RequestError) -> tuple[In, T] | RequestError:
    return result if isinstance(result, RequestError) else (item, result)


def _predict_one(predict: Callable[[list[In]], list[T]], item: In) -> T | RequestError:
    try:
        [result] = predict([item])
    except Exception:
        log.exception("inference failed on %s", _described(item))
        return RequestError("image_unprocessable")
    return result


def _described(item: Any) -> str:
    if isinstance(item, Image.Image):
        return f"a {item.width}x{item.height} image"
    return f"{len(item)} images" if isinstance(item, list) else type(item).__name__


class ImageHandler(BaseHandler):
    """Shared set-up, decoding, batching and answering. A handler implements the three abstract
    hooks, ``load``, ``predict`` and ``answer`` (and may override ``preprocess`` when a request
    is more than one image); it cannot be made without them. ``BaseHandler`` is an ``abc.ABC``."""

    def initialize(self, context: Any) -> None:
        self.context = context
        self.manifest = context.manifest
        self.config = handler_config(context)
        torch.set_num_threads(int(self.config.get("num_threads", 1)))
        gpu_id = context.system_properties.get("gpu_id")
        use_cuda = gpu_id is not None and torch.cuda.is_available()
        self.device = torch.device(f"cuda:{gpu_id}" if use_cuda else "cpu")
        retired = [key for key in RETIRED_CONFIG_KEYS if key in self.config]
        if retired:
            raise ValueError(
                f"model-config handler keys {retired} are core.parameters's; remove them"
            )
        self.max_pixels = MAX_PIXELS
        self.min_side = int(self.config.get("min_side", 1))
        self.load(context)
        self.initialized = True

    @abstractmethod
    def load(self, context: Any) -> None:
        """Load the model; called once by :meth:`initialize`."""

    @abstractmethod
    def predict(self, images: list[Image.Image]) -> list[Any]:
        """The model's result for each decoded image (one batch)."""

    @abstractmethod
    def answer(self, image: Image.Image, result: Any) -> BaseModel:
        """The contract's answer (:mod:`core.schemas`) for one image and its result."""

    def preprocess(self, data: list[Any]) -> list[Image.Image | RequestError]:
        return [
            decode_image(request_body(request), self.max_pixels, self.min_side) for request in data
        ]

    @torch.inference_mode()
    def inference(
        self, data: list[Image.Image | RequestError], *args: Any, **kwargs: Any
    ) -> list[tuple[Image.Image, Any] | RequestError]:
        return predict_each(data, self.predict)

    def postprocess(self, data: list[tuple[Image.Image, Any] | RequestError]) -> list[dict]:
        return [
            item.as_dict()
            if isinstance(item, RequestError)
            else self.answer(*item).model_dump(mode="json")
            for item in data
        ]

    @property
    def model_info(self) -> dict[str, str]:
        model = (self.manifest or {}).get("model", {})
        return {"name": model.get("modelName", ""), "version": model.get("modelVersion", "")}
