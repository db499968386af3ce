"""TorchServe handlers (``BaseHandler`` subclasses) and what they share.

Each handler reads its settings from the ``handler:`` section of the archive's model-config yaml
(``context.model_yaml_config``), pins torch to ``num_threads`` threads (default 1: TorchServe
sets none, and two busy threads on two cores were measured 20x slower), and answers a batch
request by request: an unreadable image gets ``{"error": "image_corrupt"}`` without failing the
rest of the batch.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image
from ts.torch_handler.base_handler import BaseHandler

DEFAULT_MAX_PIXELS = 40_000_000  # the gateway's limit; bigger images are refused, not decoded


@dataclass(frozen=True)
class RequestError:
    """A per-request failure, answered as ``{"error": code}``."""

    code: str

    def as_dict(self) -> dict[str, str]:
        return {"error": self.code}


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


def decode_image(body: Any, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image | RequestError:
    """An RGB image from raw bytes, or the reason it cannot be one."""
    if not isinstance(body, bytes | bytearray) or not body:
        return RequestError("image_corrupt")
    try:
        with Image.open(io.BytesIO(body)) as image:
            if image.width * image.height > max_pixels:
                return RequestError("image_too_large")
            return image.convert("RGB")  # forces a full decode: truncated files fail here
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return RequestError("image_corrupt")


class ImageHandler(BaseHandler):
    """Shared set-up: config, threads, device, decoding; subclasses load their model."""

    def initialize(self, context: Any) -> None:
        self.context = context
        self.manifest = context.manifest
        self.config = handler_config(context)
        torch.set_num_threads(int(self.config.get("num_threads", 1)))
        gpu_id = context.system_properties.get("gpu_id")
        use_cuda = gpu_id is not None and torch.cuda.is_available()
        self.device = torch.device(f"cuda:{gpu_id}" if use_cuda else "cpu")
        self.max_pixels = int(self.config.get("max_pixels", DEFAULT_MAX_PIXELS))
        self.load(context)
        self.initialized = True

    def load(self, context: Any) -> None:
        """Load the model; called once by :meth:`initialize`."""
        raise NotImplementedError

    def preprocess(self, data: list[Any]) -> list[Image.Image | RequestError]:
        return [decode_image(request_body(request), self.max_pixels) for request in data]

    @property
    def model_info(self) -> dict[str, str]:
        model = (self.manifest or {}).get("model", {})
        return {"name": model.get("modelName", ""), "version": model.get("modelVersion", "")}
