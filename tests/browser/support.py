"""Helpers of the browser tests: the live gateway's settings, test photos, screenshots, page errors.

The fixtures that use them are in ``tests/browser/conftest.py``; tests import the plain helpers
(``shot``, ``page_errors``, ``allow_errors``) from here.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
from dataclasses import dataclass, field
from math import sin
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from PIL import Image, ImageDraw, ImageFilter
from pydantic import SecretStr

from gateway.config import Settings

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "var" / "screenshots"  # var/ is git-ignored


# --- The live gateway: uvicorn in its own process (bench.soak starts and stops it) ---------


@dataclass(frozen=True)
class LiveStack:
    """The gateway over real HTTP on loopback, on a SQLite file and local storage."""

    base_url: str  # "http://127.0.0.1:<port>", no trailing slash
    settings: Settings  # exactly what the gateway process runs with
    log: Path  # the gateway's stdout and stderr

    def url(self, path: str = "/") -> str:
        return self.base_url + path


def settings_env(settings: Settings) -> dict[str, str]:
    """``ALPHAMALE_*`` variables that make ``Settings()`` in another process equal ``settings``."""
    env = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, list | dict):
            value = json.dumps(value)
        env[f"ALPHAMALE_{name.upper()}"] = str(value)
    return env


def gateway_env(settings: Settings) -> dict[str, str]:
    """The environment of a gateway process that runs with exactly ``settings``."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAMALE_")}
    if dataset := os.environ.get("ALPHAMALE_DATASET_DIR"):
        inherited["ALPHAMALE_DATASET_DIR"] = dataset
    return inherited | settings_env(settings) | {"PYTHONUNBUFFERED": "1"}


# --- Test photos -------------------------------------------------------------------------------


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def group_photo(
    face: bytes,
    count: int = 5,
    tile: int = 92,
    canvas: tuple[int, int] = (1200, 900),
    seed: int = 7,
) -> bytes:
    """``count`` copies of ``face`` shrunk to ``tile`` px wide, spread over ``canvas``.

    A London photo (640 px wide) shrunk to a 92 px tile keeps a face about 25 px from eyes to
    chin, under the 32 px floor (Settings.min_face_px), and about 17 px in the 640 px copy the
    detector sees, above the 12 px it finds faces down to. Measured on the live stack: 422
    ``face_too_small`` with ``face_count`` 5 (tiles of 56-96 px and canvases of 640-1200 px
    give the same code).
    """
    rng = random.Random(seed)
    person = Image.open(io.BytesIO(face)).convert("RGB")
    small = person.resize((tile, round(tile * person.height / person.width)), Image.LANCZOS)
    photo = Image.new("RGB", canvas, (214, 206, 192))
    draw = ImageDraw.Draw(photo)
    for y in range(canvas[1]):  # a plain wall with a little light from above
        shade = round(30 * y / canvas[1])
        draw.line((0, y, canvas[0], y), fill=(224 - shade, 214 - shade, 198 - shade))
    columns = -(-count // 2)
    cell_w, cell_h = canvas[0] // columns, canvas[1] // 2
    for i in range(count):
        row, column = divmod(i, columns)
        x = column * cell_w + rng.randint(0, max(0, cell_w - small.width))
        y = row * cell_h + rng.randint(0, max(0, cell_h - small.height))
        photo.paste(small, (x, y))
    return jpeg(photo)


def landscape_photo(size: tuple[int, int] = (1200, 800), seed: int = 3) -> bytes:
    """A sky gradient over rolling hills: a valid photo with nothing face-like in it."""
    rng = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line((0, y, width, y), fill=(round(90 + 120 * t), round(150 + 80 * t), 235))
    for layer, colour in enumerate(((96, 140, 84), (70, 118, 62), (48, 92, 46))):
        base = height * (0.55 + 0.13 * layer)
        phase, amplitude = rng.uniform(0, 6.3), height * rng.uniform(0.03, 0.07)
        points = [(0, height)]
        for x in range(0, width + 1, 8):
            points.append((x, base + amplitude * sin(phase + x / width * 5.0)))
        points.append((width, height))
        draw.polygon(points, fill=colour)
    return jpeg(image.filter(ImageFilter.GaussianBlur(1.5)))


NOT_AN_IMAGE = b"This is a text file with a .jpg name, not a photo.\n" * 20


# --- Screenshots and page errors ---------------------------------------------------------------


def shot(page: Any, name: str, full_page: bool = True) -> Path:
    """A screenshot (whole page, or what the viewport shows) at ``var/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@dataclass
class PageErrors:
    """Console errors and uncaught exceptions of one browser context (all its pages)."""

    messages: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self.allowed)]


_ERRORS: WeakKeyDictionary[Any, PageErrors] = WeakKeyDictionary()


def watch_errors(context: Any) -> PageErrors:
    """Collect the context's console errors and page errors (every page, popups included)."""
    errors = _ERRORS[context] = PageErrors()

    def console(message: Any) -> None:
        if message.type == "error":
            location = message.location or {}
            where = f" ({location.get('url', '')}:{location.get('lineNumber', '')})"
            errors.messages.append(f"console.error: {message.text}{where}")

    def web_error(error: Any) -> None:
        errors.messages.append(f"uncaught: {error.error}")

    context.on("console", console)
    context.on("weberror", web_error)
    return errors


def page_errors(page: Any) -> PageErrors:
    """What the fixture that opened ``page`` has collected so far (``.messages``)."""
    return _ERRORS[page.context]


def allow_errors(page: Any, *patterns: str) -> None:
    """Let console errors matching any regex ``pattern`` pass the fixture's teardown check.

    Chromium logs every 4xx/5xx answer to ``fetch`` as a console error ("Failed to load
    resource: the server responded with a status of 422 ..."): a test of an error path allows
    it with ``allow_errors(page, r"status of 422")``.
    """
    page_errors(page).allowed.extend(re.compile(p) for p in patterns)
