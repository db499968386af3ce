"""The seed's serving design, rebuilt as a baseline for ``bench.perf``.

The original project loaded its model weights from disk inside the request handler and ran the
models in the web server's event loop. Here: one in-process FastAPI endpoint that, for every
request, builds the three handlers from their files (MTCNN, the part detector's checkpoint,
dlib's landmarks, the face network and the type model) and runs them synchronously inside
``async def``, so concurrent requests queue behind each other. Same models and inputs as the
real stack.
"""

from __future__ import annotations

import asyncio
import io
import statistics
import time
from typing import Any

import httpx
from fastapi import FastAPI, Request
from PIL import Image

from core.crop import upright_crop
from model_server.paths import WEIGHTS_DIR
from model_server.runtime.handlers.base import ImageHandler
from model_server.runtime.handlers.face_check import FaceCheckHandler
from model_server.runtime.handlers.face_regions import FaceRegionsHandler
from model_server.runtime.handlers.face_type import FaceTypeHandler
from model_server.tools import archive
from model_server.tools.dlib_weights import converted
from model_server.tools.worker_context import local_context, model_config

CLASSES: dict[str, type[ImageHandler]] = {
    "face_check": FaceCheckHandler,
    "face_regions": FaceRegionsHandler,
    "face_type": FaceTypeHandler,
}


def handlers() -> dict[str, ImageHandler]:
    """The three handlers, initialised from their files (as a TorchServe worker would)."""
    loaded = {}
    for name, cls in CLASSES.items():
        handler = cls()
        serialized = archive.SERIALIZED.get(name)  # the files the archives ship
        config = model_config(name, face_net=str(converted())) if name == "face_type" else None
        context = local_context(name, WEIGHTS_DIR, config, serialized, batch_size=1)
        handler.initialize(context)
        loaded[name] = handler
    return loaded


def served_inputs(face_check: ImageHandler, photo: bytes) -> dict[str, bytes]:
    """Each handler's input for ``photo``: the photo, then the upright crop of its face."""
    [answer] = face_check.handle([{"body": photo}], face_check.context)
    face = answer["faces"][0]
    marks = face["landmarks"]
    image = Image.open(io.BytesIO(photo)).convert("RGB")
    crop = upright_crop(image, face["box"], marks["left_eye"], marks["right_eye"]).image
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=90)
    return {"face_check": photo, "face_regions": buffer.getvalue(), "face_type": buffer.getvalue()}


def seed_app() -> FastAPI:
    app = FastAPI()

    @app.post("/analyse")
    async def analyse(request: Request) -> dict[str, Any]:
        photo = await request.body()
        loaded = handlers()  # weights from disk, every request (the seed's design)
        inputs = served_inputs(loaded["face_check"], photo)  # in the event loop
        answers = {
            name: loaded[name].handle([{"body": inputs[name]}], loaded[name].context)[0]
            for name in ("face_regions", "face_type")
        }
        return answers

    return app


def measure(photo: bytes, seconds: float, concurrency: int = 8) -> dict[str, float]:
    """Analyses per second and p50 of the seed's design at ``concurrency``."""

    async def run() -> dict[str, float]:
        transport = httpx.ASGITransport(app=seed_app())
        latencies: list[float] = []
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(transport=transport, base_url="http://seed", timeout=600) as c:

            async def worker() -> None:
                while time.monotonic() < deadline:
                    started = time.perf_counter()
                    answer = await c.post("/analyse", content=photo)
                    answer.raise_for_status()
                    latencies.append((time.perf_counter() - started) * 1000)

            started = time.monotonic()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.monotonic() - started
        return {"per_s": len(latencies) / elapsed, "p50_ms": statistics.median(latencies)}

    return asyncio.run(run())
