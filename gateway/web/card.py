"""The 1200x630 result card (Open Graph size), drawn with Pillow: pure, no I/O but fonts.

:func:`render_card` lays out the type name, its description, three region chips and, on the
left, either the person's photo cropped around the face with the region outlines (only when they
opted in to sharing it) or an abstract emblem of the type. The drawing helpers here are shared
with the story image (:mod:`gateway.web.story`); the words come in already localised
(:class:`CardContent`), drawn with a CJK font when they are Korean.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageColor, ImageDraw, ImageFont, ImageOps

from core.taxonomy import PART_COLOURS, PARTS, TYPE_COLOURS, TYPE_LETTERS

WIDTH, HEIGHT = 1200, 630
PANEL = (40, 40, 520, 590)  # left panel: photo or emblem
PHOTO_SIZE = (240, 275)  # a group member's shared face: the panel's crop at half its size
TEXT_LEFT, TEXT_RIGHT = 570, 1160
BACKGROUND = (17, 19, 28)
INK = (244, 245, 250)
MUTED = (160, 166, 184)
CHIP = (32, 35, 48)

TYPE_RGB: dict[str, tuple[int, int, int]] = {
    slug: (int(hex_[1:3], 16), int(hex_[3:5], 16), int(hex_[5:7], 16))
    for slug, hex_ in TYPE_COLOURS.items()
}
DEFAULT_COLOUR = (200, 200, 210)
PART_RGB = {part: ImageColor.getrgb(colour) for part, colour in PART_COLOURS.items()}

FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/share/fonts/truetype/nanum",
    "/usr/share/fonts/nanum",
    "/usr/share/fonts/naver-nanum",
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/noto-cjk",
    "/usr/share/fonts/google-noto-cjk",
    "/usr/share/fonts/google-noto-sans-cjk-fonts",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "/opt/homebrew/share/fonts",
)
CJK_REGULAR = (
    "NanumGothic.ttf",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKkr-Regular.otf",
    "NotoSansKR-Regular.otf",
)
CJK_BOLD = ("NanumGothicBold.ttf", "NotoSansCJK-Bold.ttc", "NotoSansCJKkr-Bold.otf")
FONT_NAMES: dict[tuple[bool, bool], tuple[str, ...]] = {  # (bold, cjk): first found wins
    (False, False): ("DejaVuSans.ttf",),
    (True, False): ("DejaVuSans-Bold.ttf",),
    (False, True): CJK_REGULAR,
    (True, True): CJK_BOLD + CJK_REGULAR,
}

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Rect = tuple[int, int, int, int]  # a layout rectangle on the image, in whole pixels


@dataclass(frozen=True)
class Chip:
    """One region on the images: its part (for the colour), label and value, worded."""

    part: str
    label: str
    value: str


@dataclass(frozen=True)
class CardContent:
    """What the card and the story show, already worded in one language."""

    type_slug: str
    type_name: str
    description: str
    kicker: str
    score: str
    chips: tuple[Chip, ...]
    regions: dict[str, Any]  # the stored regions, for the outlines on the photo
    footer: str = ""  # the story's last line: where to find your own type
    cjk: bool = False  # draw the words with a CJK font (Korean)


@lru_cache(maxsize=4)
def font_path(bold: bool, cjk: bool = False) -> str | None:
    """DejaVu Sans, or with ``cjk`` NanumGothic / Noto Sans CJK, from common places; or None."""
    for name in FONT_NAMES[bold, cjk]:
        for folder in FONT_DIRS:
            if (path := Path(folder) / name).is_file():
                return str(path)
    return None


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False, cjk: bool = False) -> Font:
    """A TrueType font of ``size`` px; Pillow's bundled scalable default when none is found."""
    path = (font_path(bold, cjk=True) if cjk else None) or font_path(bold)
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


def fitting_prefix(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int) -> int:
    """How many leading characters of ``text`` fit in ``width`` (at least one)."""
    count = 1
    while count < len(text) and draw.textlength(text[: count + 1], font=face) <= width:
        count += 1
    return count


def wrap(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap to ``width`` px (a word too long for a line is broken); an ellipsis
    ends the last line when text is left over."""
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < max_lines:
        line = words.pop(0)
        if draw.textlength(line, font=face) > width:
            cut = fitting_prefix(draw, line, face, width)
            line, rest = line[:cut], line[cut:]
            words.insert(0, rest)
        else:
            while words and draw.textlength(f"{line} {words[0]}", font=face) <= width:
                line = f"{line} {words.pop(0)}"
        lines.append(line)
    if words and lines:
        last = lines[-1]
        while last and draw.textlength(last + "…", font=face) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def fit_text(
    draw: ImageDraw.ImageDraw, text: str, width: int, sizes: Iterable[int], cjk: bool = False
) -> Font:
    """The largest bold font among ``sizes`` (descending) that fits ``text`` in ``width``."""
    face = font(12, bold=True, cjk=cjk)
    for size in sizes:
        face = font(size, bold=True, cjk=cjk)
        if draw.textlength(text, font=face) <= width:
            break
    return face


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


def on_stored_photo(regions: dict[str, Any], scale: float | None) -> dict[str, Any]:
    """``regions`` with their polygons on the stored photo, ``scale`` times the analysed copy
    they were found on (None: the same size, as in rows from before photos were kept smaller)."""
    if not scale or scale == 1:
        return regions
    return {
        part: region | {"polygon": [[x * scale, y * scale] for x, y in region["polygon"]]}
        if isinstance(region, dict) and region.get("polygon")
        else region
        for part, region in regions.items()
    }


def region_polygons(regions: dict[str, Any]) -> dict[str, list[list[float]]]:
    """Each found part's polygon (at least three corners), by part name."""
    out = {}
    for part in PARTS:
        polygon = (regions.get(part) or {}).get("polygon")
        if isinstance(polygon, list) and len(polygon) >= 3:
            out[part] = [[float(x), float(y)] for x, y in polygon]
    return out


def face_crop(
    photo: Image.Image, regions: dict[str, Any], size: tuple[int, int]
) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """The photo cropped around the face (:func:`focus_box`) to ``size``'s aspect and resized
    to it, and the crop's box on the photo: the only way a shared photo is ever shown."""
    polygons = region_polygons(regions)
    crop = focus_box(photo.size, list(polygons.values()), size[0] / size[1])
    return photo.convert("RGB").resize(size, Image.Resampling.LANCZOS, box=crop), crop


def draw_photo(image: Image.Image, box: Rect, photo: Image.Image, regions: dict[str, Any]) -> None:
    """The photo in ``box``, cropped around the face, each region outlined in its part colour."""
    x0, y0, x1, y1 = box
    panel_w, panel_h = x1 - x0, y1 - y0
    shown, crop = face_crop(photo, regions, (panel_w, panel_h))
    scale = panel_w / (crop[2] - crop[0])
    draw = ImageDraw.Draw(shown)
    for part, polygon in region_polygons(regions).items():
        corners = [((x - crop[0]) * scale, (y - crop[1]) * scale) for x, y in polygon]
        draw.polygon(corners, outline=PART_RGB[part], width=max(5, round(panel_w / 96)))
    mask = Image.new("L", (panel_w, panel_h), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, panel_w - 1, panel_h - 1), 28, fill=255)
    image.paste(shown, (x0, y0), mask)


def draw_emblem(image: Image.Image, box: Rect, content: CardContent) -> None:
    """An abstract badge of the type in ``box``: rings in its colour around its Greek letter."""
    colour = type_colour(content.type_slug)
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = box
    scale = min(x1 - x0, y1 - y0) / 480  # the card's panel is the unit

    def circle(radius: float) -> tuple[float, float, float, float]:
        return (cx - radius * scale, cy - radius * scale, cx + radius * scale, cy + radius * scale)

    draw.rounded_rectangle(box, 28, fill=mix(BACKGROUND, colour, 0.12))
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    for step, radius in enumerate((210, 170, 130)):
        ring = mix(BACKGROUND, colour, 0.35 + 0.3 * step)
        draw.ellipse(circle(radius), outline=ring, width=round(10 * scale))
    for index, part in enumerate(PARTS):
        start = -90 + index * 120 + 8
        draw.arc(circle(240), start, start + 104, PART_RGB[part], round(8 * scale))
    draw.ellipse(circle(100), fill=colour)
    greek = TYPE_LETTERS.get(content.type_slug, "") if font_path(True) else ""  # type: ignore[call-overload]
    letter = greek or (content.type_name[:1] or "?").upper()
    face = font(round(130 * scale), bold=True, cjk=content.cjk and not greek)
    draw.text((cx, cy), letter, font=face, fill=BACKGROUND, anchor="mm")


def draw_panel(
    image: Image.Image, box: Rect, content: CardContent, photo: Image.Image | None
) -> None:
    """The photo (only when the person opted in) or else the type's emblem."""
    if photo is not None:
        draw_photo(image, box, photo, content.regions)
    else:
        draw_emblem(image, box, content)


def draw_chips(
    draw: ImageDraw.ImageDraw,
    content: CardContent,
    left: int,
    right: int,
    top: int,
    scale: float = 1.0,
) -> None:
    """The region chips side by side: part label, then its type and points in one size."""
    chips, cjk = content.chips, content.cjk
    gap, height, pad, dot = (round(value * scale) for value in (16, 96, 18, 16))
    width = (right - left - gap * (len(chips) - 1)) // max(len(chips), 1)
    label_font = font(round(22 * scale), cjk=cjk)
    sizes = [round(size * scale) for size in (30, 26, 22, 18)]
    widest = max(
        (chip.value for chip in chips),
        key=lambda value: draw.textlength(value, font=font(sizes[0], bold=True, cjk=cjk)),
        default="",
    )
    value_font = fit_text(draw, widest, width - 2 * pad, sizes, cjk=cjk)
    for index, chip in enumerate(chips):
        x = left + index * (width + gap)
        draw.rounded_rectangle((x, top, x + width, top + height), pad, fill=CHIP)
        dot_top = top + round(20 * scale)
        draw.ellipse((x + pad, dot_top, x + pad + dot, dot_top + dot), fill=PART_RGB[chip.part])
        draw.text((x + pad + dot + 10, top + 16 * scale), chip.label, font=label_font, fill=MUTED)
        draw.text((x + pad, top + 50 * scale), chip.value, font=value_font, fill=INK)


def draw_lines(
    draw: ImageDraw.ImageDraw,
    text: str,
    xy: tuple[int, int],
    width: int,
    face: Font,
    spacing: int,
    max_lines: int,
) -> None:
    """``text`` wrapped into at most ``max_lines`` lines, ``spacing`` px apart, from ``xy``."""
    x, y = xy
    for row, line in enumerate(wrap(draw, text, face, width, max_lines)):
        draw.text((x, y + row * spacing), line, font=face, fill=INK)


def canvas(size: tuple[int, int], type_slug: str, bar: int) -> Image.Image:
    """A blank image in the background colour with the type's colour as a bar along the top."""
    image = Image.new("RGB", size, BACKGROUND)
    ImageDraw.Draw(image).rectangle((0, 0, size[0], bar), fill=type_colour(type_slug))
    return image


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False)
    return buffer.getvalue()


def render_card(content: CardContent, photo: Image.Image | None) -> bytes:
    """The result card as PNG bytes; ``photo`` only when the person opted in to sharing it."""
    card = canvas((WIDTH, HEIGHT), content.type_slug, 10)
    draw = ImageDraw.Draw(card)
    draw_panel(card, PANEL, content, photo)
    cjk, width = content.cjk, TEXT_RIGHT - TEXT_LEFT
    draw.text((TEXT_LEFT, 52), content.kicker, font=font(24, bold=True, cjk=cjk), fill=MUTED)
    name_font = fit_text(draw, content.type_name, width, range(132, 40, -8), cjk=cjk)
    draw.text(
        (TEXT_LEFT - 6, 86), content.type_name, font=name_font, fill=type_colour(content.type_slug)
    )
    draw_lines(draw, content.description, (TEXT_LEFT, 250), width, font(28, cjk=cjk), 38, 6)
    draw_chips(draw, content, TEXT_LEFT, TEXT_RIGHT, 482)
    return png(card)


def face_jpeg(data: bytes, regions: dict[str, Any], size: tuple[int, int] = PHOTO_SIZE) -> bytes:
    """A stored photo as the card's face crop (no outlines), a JPEG of ``size``; empty when
    the photo cannot be read."""
    photo = load_photo(data)
    if photo is None:
        return b""
    buffer = io.BytesIO()
    face_crop(photo, regions, size)[0].save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def load_photo(data: bytes) -> Image.Image | None:
    """Decode a stored (already cleaned, upright) photo; None when it cannot be read."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
