"""The app's mark and web manifest.

The mark is a rounded square in the brand dark with a Greek alpha in the accent colour: as SVG
(the favicon), and drawn with Pillow as PNG (home-screen and manifest icons, maskable with the
safe-zone margin) and ICO, each rendered once per process.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw

from gateway.web.card import font, font_path
from gateway.web.i18n import TEXTS, Lang

BRAND_DARK = "#11131c"
ACCENT = "#3a86ff"
SUPERSAMPLE = 4
ICONS: dict[str, tuple[int, bool]] = {  # file name: size, maskable
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "maskable-512.png": (512, True),
}

FAVICON_SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<rect width="64" height="64" rx="14" fill="{BRAND_DARK}"/>
<text x="32" y="33" text-anchor="middle" dominant-baseline="central" fill="{ACCENT}"
 font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="44" font-weight="700">α</text>
</svg>
"""


def draw_mark(size: int, maskable: bool = False) -> Image.Image:
    """The mark at ``size`` px: rounded corners, or for ``maskable`` a full square whose alpha
    keeps inside the central 80 % safe zone."""
    side = size * SUPERSAMPLE
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, side, side), fill=BRAND_DARK)
    else:
        draw.rounded_rectangle((0, 0, side - 1, side - 1), round(side * 0.22), fill=BRAND_DARK)
    letter = "α" if font_path(True) else "A"
    glyph = font(round(side * (0.72 if maskable else 0.84)), bold=True)
    left, top, right, bottom = draw.textbbox((0, 0), letter, font=glyph)  # centre the ink
    xy = ((side - left - right) / 2, (side - top - bottom) / 2)
    draw.text(xy, letter, font=glyph, fill=ACCENT)
    return image.resize((size, size), Image.Resampling.LANCZOS)


@lru_cache(maxsize=8)
def icon_png(size: int, maskable: bool = False) -> bytes:
    """The mark as a PNG of ``size`` px, rendered once."""
    buffer = io.BytesIO()
    draw_mark(size, maskable).save(buffer, "PNG")
    return buffer.getvalue()


@lru_cache(maxsize=1)
def favicon_ico() -> bytes:
    """The mark as a multi-size ICO (16, 32 and 48 px)."""
    buffer = io.BytesIO()
    draw_mark(64).save(buffer, "ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return buffer.getvalue()


def web_manifest(lang: Lang) -> dict[str, Any]:
    """The web app manifest, its description in ``lang``."""
    icons: list[dict[str, str]] = [
        {
            "src": f"/icons/{name}",
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "maskable" if maskable else "any",
        }
        for name, (size, maskable) in ICONS.items()
    ]
    icons.append({"src": "/favicon.svg", "sizes": "any", "type": "image/svg+xml"})
    return {
        "id": "/",
        "name": "AlphaMale",
        "short_name": "AlphaMale",
        "description": TEXTS[lang].app_description,
        "lang": lang,
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": BRAND_DARK,
        "theme_color": BRAND_DARK,
        "icons": icons,
    }
