"""Demo reference catalog: generated, abstract face illustrations (no real person), per type.

``make seed`` loads at least six per type so a fresh install answers with four references;
operators replace them with their own images through the admin API.
"""

from __future__ import annotations

import asyncio
import io
import random

from PIL import Image, ImageDraw

from core.schemas import Box
from gateway.catalog.service import CatalogService
from gateway.web.card import font, mix, type_colour

SUPERSAMPLE = 2  # draw at 2x, then downscale: cheap anti-aliasing
SKIN_TONES = ((241, 194, 160), (224, 172, 130), (198, 134, 96), (161, 102, 70), (112, 72, 52))
HAIR = ((35, 28, 24), (80, 52, 32), (150, 100, 50), (210, 170, 100), (120, 120, 125))
WHITE = (255, 255, 255)
EYE_WHITE = (246, 244, 239)
IRIS_DARK = (52, 34, 22)  # irises are dark brown, tinted by the hair colour
PUPIL = (14, 12, 12)
LIPS = (90, 28, 32)


def demo_caption(index: int) -> str:
    return f"Demo illustration {index} (generated)"


def palette(type_slug: str, rng: random.Random) -> dict[str, tuple[int, int, int]]:
    """Background, accent and shape colours around the type's colour."""
    base = type_colour(type_slug)
    return {
        "top": mix(base, WHITE, rng.uniform(0.55, 0.75)),
        "bottom": mix(base, (20, 20, 30), rng.uniform(0.05, 0.3)),
        "accent": base,
        "shape": mix(base, WHITE, rng.uniform(0.2, 0.4)),
        "skin": rng.choice(SKIN_TONES),
        "hair": rng.choice(HAIR),
    }


def draw_background(
    draw: ImageDraw.ImageDraw, side: int, colours: dict, rng: random.Random
) -> None:
    """A vertical gradient with a few translucent-looking geometric shapes."""
    for y in range(side):
        draw.line((0, y, side, y), fill=mix(colours["top"], colours["bottom"], y / side))
    for _ in range(rng.randint(4, 8)):
        size = rng.uniform(0.06, 0.22) * side
        x, y = rng.uniform(0, side), rng.uniform(0, side)
        tint = mix(colours["shape"], colours["top"], rng.uniform(0, 0.5))
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + size, y + size), outline=tint, width=max(2, side // 90))
        else:
            corners = [(x + rng.uniform(0, size), y + rng.uniform(0, size)) for _ in range(3)]
            draw.polygon(corners, fill=tint)


def draw_head(draw: ImageDraw.ImageDraw, side: int, colours: dict, rng: random.Random) -> Box:
    """Shoulders, neck, hair and head; returns the head's box."""
    cx = side / 2 + rng.uniform(-0.03, 0.03) * side
    head_w, head_h = rng.uniform(0.30, 0.40) * side, rng.uniform(0.40, 0.48) * side
    top = rng.uniform(0.16, 0.22) * side
    head = (cx - head_w / 2, top, cx + head_w / 2, top + head_h)
    shoulders_y = head[3] + 0.06 * side
    draw.ellipse(
        (cx - 0.42 * side, shoulders_y, cx + 0.42 * side, shoulders_y + 0.6 * side),
        fill=colours["accent"],
    )
    draw.rectangle(
        (cx - head_w * 0.18, head[3] - 0.05 * side, cx + head_w * 0.18, shoulders_y + 20),
        fill=mix(colours["skin"], (0, 0, 0), 0.12),
    )
    hair_pad = rng.uniform(0.02, 0.06) * side
    draw.ellipse(
        (head[0] - hair_pad, head[1] - hair_pad, head[2] + hair_pad, head[1] + head_h * 0.7),
        fill=colours["hair"],
    )
    draw.ellipse(head, fill=colours["skin"])
    fringe = rng.uniform(0.12, 0.3) * head_h
    draw.chord(
        (head[0], head[1] - fringe * 0.4, head[2], head[1] + fringe * 1.6),
        180,
        360,
        fill=colours["hair"],
    )
    return head


def draw_eye(
    draw: ImageDraw.ImageDraw, centre: tuple[float, float], r: float, colours: dict, line: int
) -> None:
    """An almond of white with a dark iris, a pupil, a catchlight and an upper lid line."""
    x, y = centre
    almond = (x - r * 1.5, y - r, x + r * 1.5, y + r)
    draw.ellipse(almond, fill=EYE_WHITE)
    iris = mix(colours["hair"], IRIS_DARK, 0.55)
    draw.ellipse((x - r * 0.75, y - r * 0.75, x + r * 0.75, y + r * 0.75), fill=iris)
    draw.ellipse((x - r * 0.38, y - r * 0.38, x + r * 0.38, y + r * 0.38), fill=PUPIL)
    draw.ellipse((x + r * 0.1, y - r * 0.45, x + r * 0.4, y - r * 0.15), fill=WHITE)
    draw.arc(almond, 195, 345, fill=mix(colours["hair"], PUPIL, 0.5), width=line)


def draw_features(draw: ImageDraw.ImageDraw, head: Box, colours: dict, rng: random.Random) -> None:
    """Stylised eyes, brows, nose and mouth placed by simple proportions."""
    x0, y0, x1, y1 = head
    w, h = x1 - x0, y1 - y0
    cx, eye_y = (x0 + x1) / 2, y0 + h * rng.uniform(0.44, 0.5)
    spread, eye_r = w * rng.uniform(0.18, 0.24), w * rng.uniform(0.05, 0.075)
    line = max(2, round(w / 45))
    dark = mix(colours["hair"], (0, 0, 0), 0.4)
    for side in (-1, 1):
        ex = cx + side * spread
        draw_eye(draw, (ex, eye_y), eye_r, colours, line)
        tilt = side * rng.uniform(-0.04, 0.04) * h
        brow_y = eye_y - eye_r * 2.2
        draw.line(
            (ex - eye_r * 1.8, brow_y + tilt, ex + eye_r * 1.8, brow_y - tilt),
            fill=dark,
            width=line * 2,
        )
    nose_y = eye_y + h * rng.uniform(0.17, 0.22)
    draw.line(
        (cx, eye_y + eye_r, cx - w * 0.04, nose_y, cx + w * 0.03, nose_y),
        fill=dark,
        width=line,
        joint="curve",
    )
    mouth_w, mouth_y = w * rng.uniform(0.18, 0.28), nose_y + h * rng.uniform(0.09, 0.13)
    smile = h * rng.uniform(0.02, 0.08)
    draw.arc(
        (cx - mouth_w, mouth_y - smile, cx + mouth_w, mouth_y + smile),
        10,
        170,
        fill=mix(colours["skin"], LIPS, 0.6),
        width=line * 2,
    )


def draw_demo_mark(draw: ImageDraw.ImageDraw, side: int) -> None:
    """A small "DEMO" tag in the bottom-right corner."""
    face = font(side // 22, bold=True)
    pad = side // 60
    left, top, right, bottom = draw.textbbox((0, 0), "DEMO", font=face)
    x, y = side - (right - left) - 4 * pad, side - (bottom - top) - 4 * pad
    draw.rounded_rectangle(
        (x - pad, y - pad, x + right + pad, y + bottom + pad), pad, fill=(20, 20, 28)
    )
    draw.text((x, y), "DEMO", font=face, fill=WHITE)


def draw_demo_image(type_slug: str, index: int, size: int = 512) -> bytes:
    """A PNG illustration, the same for the same (type, index): shapes, never a real face."""
    rng = random.Random(f"alphamale-demo:{type_slug}:{index}")
    side = size * SUPERSAMPLE
    canvas = Image.new("RGB", (side, side))
    draw = ImageDraw.Draw(canvas)
    colours = palette(type_slug, rng)
    draw_background(draw, side, colours, rng)
    head = draw_head(draw, side, colours, rng)
    draw_features(draw, head, colours, rng)
    draw_demo_mark(draw, side)
    image = canvas.resize((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def seed_demo_catalog(catalog: CatalogService, per_type: int = 6) -> int:
    """Top every type up to ``per_type`` images with demo illustrations; returns how many added."""
    added = 0
    for face_type in await catalog.types():
        for index in range(await catalog.count(face_type.slug) + 1, per_type + 1):
            data = await asyncio.to_thread(draw_demo_image, face_type.slug, index)
            # generated illustrations have no face: no model server is asked (`make seed` runs
            # before TorchServe starts)
            await catalog.add(face_type.slug, data, demo_caption(index), demo=True, describe=False)
            added += 1
    return added
