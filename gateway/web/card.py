"""The 1200x630 result card (Open Graph size), drawn with Pillow: pure, no I/O but fonts.

:func:`render_card` lays out the type name, its description, three region chips and, on the
left, either the person's photo with the region outlines (only when they opted in to sharing it)
or an abstract emblem of the type.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps

from core.taxonomy import TYPE_COLOURS, TYPE_LETTERS

WIDTH, HEIGHT = 1200, 630
PANEL = (40, 40, 520, 590)  # left panel: photo or emblem
TEXT_LEFT, TEXT_RIGHT = 570, 1160
BACKGROUND = (17, 19, 28)
INK = (244, 245, 250)
MUTED = (160, 166, 184)

TYPE_RGB: dict[str, tuple[int, int, int]] = {
    slug: (int(hex_[1:3], 16), int(hex_[3:5], 16), int(hex_[5:7], 16))
    for slug, hex_ in TYPE_COLOURS.items()
}
DEFAULT_COLOUR = (200, 200, 210)
PARTS: tuple[tuple[str, str], ...] = (("face", "Face"), ("t_zone", "T-zone"), ("jaw", "Jaw"))
PART_COLOURS = {"face": (255, 209, 102), "t_zone": (6, 214, 160), "jaw": (239, 71, 111)}

FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "/opt/homebrew/share/fonts",
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=2)
def font_path(bold: bool) -> str | None:
    """DejaVu Sans (bold or book) from a few common places, or None."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        if (path := Path(folder) / name).is_file():
            return str(path)
    return None


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> Font:
    """A TrueType font of ``size`` px; Pillow's bundled scalable default when DejaVu is absent."""
    path = font_path(bold)
    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def type_colour(type_slug: str) -> tuple[int, int, int]:
    return TYPE_RGB.get(type_slug, DEFAULT_COLOUR)


def mix(a: Sequence[int], b: Sequence[int], t: float) -> tuple[int, int, int]:
    """Linear blend of two RGB colours (t=0 gives a, t=1 gives b)."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def wrap(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap to ``width`` px; an ellipsis ends the last line when text is left over."""
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < max_lines:
        line = words.pop(0)
        while words and draw.textlength(f"{line} {words[0]}", font=face) <= width:
            line = f"{line} {words.pop(0)}"
        lines.append(line)
    if words and lines:
        last = lines[-1]
        while last and draw.textlength(last + "…", font=face) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def fit_text(draw: ImageDraw.ImageDraw, text: str, width: int, sizes: Iterable[int]) -> Font:
    """The largest bold font among ``sizes`` (descending) that fits ``text`` in ``width``."""
    face = font(12, bold=True)
    for size in sizes:
        face = font(size, bold=True)
        if draw.textlength(text, font=face) <= width:
            break
    return face


def points(value: Any) -> str:
    """A region's points ("40 pts"), or a dash for rows stored before regions had points."""
    return f"{value} pts" if isinstance(value, int) else "–"


def focus_box(
    size: tuple[int, int], polygons: list[list[list[float]]], aspect: float
) -> tuple[float, float, float, float]:
    """A crop of the photo with the panel's aspect, centred on the regions with some margin."""
    width, height = size
    points = [point for polygon in polygons for point in polygon]
    if points:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        span_w, span_h = (max(xs) - min(xs)) * 1.6, (max(ys) - min(ys)) * 1.6
    else:
        cx, cy, span_w, span_h = width / 2, height / 2, width, height
    crop_w = max(span_w, span_h * aspect)
    crop_w = min(crop_w, width, height * aspect)
    crop_h = crop_w / aspect
    left = min(max(cx - crop_w / 2, 0), width - crop_w)
    top = min(max(cy - crop_h / 2, 0), height - crop_h)
    return left, top, left + crop_w, top + crop_h


def region_polygons(regions: dict[str, Any]) -> dict[str, list[list[float]]]:
    """Each found part's polygon (at least three corners), by part name."""
    out = {}
    for part, _label in PARTS:
        polygon = (regions.get(part) or {}).get("polygon")
        if isinstance(polygon, list) and len(polygon) >= 3:
            out[part] = [[float(x), float(y)] for x, y in polygon]
    return out


def draw_photo(card: Image.Image, photo: Image.Image, regions: dict[str, Any]) -> None:
    """The photo, cropped around the face, with each region's outline in its part colour."""
    x0, y0, x1, y1 = PANEL
    panel_w, panel_h = x1 - x0, y1 - y0
    polygons = region_polygons(regions)
    box = focus_box(photo.size, list(polygons.values()), panel_w / panel_h)
    scale = panel_w / (box[2] - box[0])
    shown = photo.convert("RGB").resize((panel_w, panel_h), Image.Resampling.LANCZOS, box=box)
    draw = ImageDraw.Draw(shown)
    for part, polygon in polygons.items():
        corners = [((x - box[0]) * scale, (y - box[1]) * scale) for x, y in polygon]
        draw.polygon(corners, outline=PART_COLOURS[part], width=5)
    mask = Image.new("L", (panel_w, panel_h), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, panel_w - 1, panel_h - 1), 28, fill=255)
    card.paste(shown, (x0, y0), mask)


def draw_emblem(card: Image.Image, type_slug: str, type_name: str) -> None:
    """An abstract badge of the type: rings in its colour around its Greek letter."""
    colour = type_colour(type_slug)
    draw = ImageDraw.Draw(card)
    x0, y0, x1, y1 = PANEL
    draw.rounded_rectangle(PANEL, 28, fill=mix(BACKGROUND, colour, 0.12))
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    for step, radius in enumerate((210, 170, 130)):
        ring = mix(BACKGROUND, colour, 0.35 + 0.3 * step)
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), outline=ring, width=10)
    for index, (part, _label) in enumerate(PARTS):
        start = -90 + index * 120 + 8
        draw.arc(
            (cx - 240, cy - 240, cx + 240, cy + 240), start, start + 104, PART_COLOURS[part], 8
        )
    draw.ellipse((cx - 100, cy - 100, cx + 100, cy + 100), fill=colour)
    letter = TYPE_LETTERS.get(type_slug, "") if font_path(True) else ""
    letter = letter or (type_name[:1] or "?").upper()
    draw.text((cx, cy), letter, font=font(130, bold=True), fill=BACKGROUND, anchor="mm")


def draw_chips(draw: ImageDraw.ImageDraw, regions: dict[str, Any], top: int) -> None:
    """Three chips side by side: part name, its type and the points it adds."""
    gap = 16
    width = (TEXT_RIGHT - TEXT_LEFT - 2 * gap) // 3
    for index, (part, label) in enumerate(PARTS):
        region = regions.get(part) or {}
        left = TEXT_LEFT + index * (width + gap)
        draw.rounded_rectangle((left, top, left + width, top + 96), 18, fill=(32, 35, 48))
        draw.ellipse((left + 18, top + 20, left + 34, top + 36), fill=PART_COLOURS[part])
        draw.text((left + 44, top + 16), label, font=font(22), fill=MUTED)
        kind = str(region.get("type") or "–").title()
        value = f"{kind} · {points(region.get('points'))}"
        face = fit_text(draw, value, width - 36, (30, 26, 22, 18))
        draw.text((left + 18, top + 50), value, font=face, fill=INK)


def render_card(
    type_name: str,
    type_slug: str,
    description: str,
    regions: dict[str, Any],
    photo: Image.Image | None,
) -> bytes:
    """The result card as PNG bytes; ``photo`` only when the person opted in to sharing it."""
    colour = type_colour(type_slug)
    card = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, WIDTH, 10), fill=colour)
    if photo is not None:
        draw_photo(card, photo, regions)
    else:
        draw_emblem(card, type_slug, type_name)
    draw.text((TEXT_LEFT, 52), "ALPHAMALE · FACE TYPE", font=font(24, bold=True), fill=MUTED)
    name_font = fit_text(draw, type_name, TEXT_RIGHT - TEXT_LEFT, range(132, 40, -8))
    draw.text((TEXT_LEFT - 6, 86), type_name, font=name_font, fill=colour)
    body = font(28)
    for row, line in enumerate(wrap(draw, description, body, TEXT_RIGHT - TEXT_LEFT, 6)):
        draw.text((TEXT_LEFT, 250 + row * 38), line, font=body, fill=INK)
    draw_chips(draw, regions, 482)
    buffer = io.BytesIO()
    card.save(buffer, "PNG", optimize=False)
    return buffer.getvalue()


def load_photo(data: bytes) -> Image.Image | None:
    """Decode a stored (already cleaned, upright) photo; None when it cannot be read."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
