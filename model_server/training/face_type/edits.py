"""Photo edits the type's stability is fitted on and judged by: two families and a third photo.

An :class:`Edit` changes the photo (given its face box, for edits around the face, and a seeded
generator, for noise), then moves or scales the face box MTCNN finds before the gateway's crop.

- ``hard`` (:data:`HARD`): the ten variants of :data:`.stability.VARIANTS` (mirror, JPEG 40 and
  60, 60 % and 80 % scale, +-5 degree rotation, +-20 % brightness, the box shifted by 5 %). The
  type model's stability penalty is fitted on these, and its settings are chosen on them.
- ``report`` (:data:`REPORT`): ten harder edits of other kinds, each combining several (a tighter
  framing zoomed back up, colour temperature, gamma, blur, sensor noise at a lower resolution,
  JPEG 30-50, 8 degree rotation, a horizontal squeeze and a keystone as a small yaw would give,
  the box jittered and scaled). Used only to report: nothing is fitted or chosen on them.
- :data:`THIRD`: London has two photos a person; a third is the neutral photo under this edit
  (another framing, light and compression), on which either family's edits are then applied.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from core.schemas import Box
from model_server.training.face_type.stability import BOX_SHIFT, VARIANTS

PhotoEdit = Callable[[Image.Image, Box, np.random.Generator], Image.Image]


def _same(image: Image.Image, face: Box, rng: np.random.Generator) -> Image.Image:
    return image


@dataclass(frozen=True)
class Edit:
    """A photo edit, then the face box moved by (dx, dy) of its width and scaled by ``scale``."""

    photo: PhotoEdit = _same
    box: tuple[float, float, float] = (0.0, 0.0, 1.0)


def seeded(*names: str) -> np.random.Generator:
    """A generator seeded by the names (a photo's and an edit's): the same noise on every run."""
    return np.random.default_rng(zlib.crc32("|".join(names).encode()))


def edited_box(face: Box, box: tuple[float, float, float]) -> Box:
    """``face`` moved by (dx, dy) of its width and scaled about its centre."""
    x1, y1, x2, y2 = face
    dx, dy, scale = box
    width = x2 - x1
    cx, cy = (x1 + x2) / 2 + dx * width, (y1 + y2) / 2 + dy * width
    half_w, half_h = (x2 - x1) * scale / 2, (y2 - y1) * scale / 2
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


# ----------------------------------------------------------------------------- the operations
def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def scaled(image: Image.Image, factor: float) -> Image.Image:
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS)


def rotated(image: Image.Image, degrees: float) -> Image.Image:
    return image.rotate(degrees, Image.Resampling.BICUBIC, expand=True, fillcolor=(128, 128, 128))


def squeezed(image: Image.Image, factor: float) -> Image.Image:
    """Narrower by ``factor`` (a face turned a little away looks narrower)."""
    return image.resize((round(image.width * factor), image.height), Image.Resampling.LANCZOS)


def zoomed(image: Image.Image, face: Box, share: float) -> Image.Image:
    """The square of ``share`` of the shorter side around the face, back to the photo's size."""
    side = share * min(image.size)
    cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    left = min(max(0.0, cx - side / 2), image.width - side)
    top = min(max(0.0, cy - side / 2), image.height - side)
    window = image.crop((round(left), round(top), round(left + side), round(top + side)))
    return window.resize(image.size, Image.Resampling.BICUBIC)


def toned(image: Image.Image, red: float, blue: float, gamma: float) -> Image.Image:
    """Colour temperature (red and blue gains) and a gamma curve."""
    rgb = np.asarray(image, dtype=np.float64) / 255
    rgb = rgb * np.array([red, 1.0, blue])
    rgb = np.clip(rgb, 0, 1) ** gamma
    return Image.fromarray(np.round(rgb * 255).astype(np.uint8))


def blurred(image: Image.Image, face: Box, share: float) -> Image.Image:
    """Gaussian blur of ``share`` of the face's width (the same blur on the face at any size)."""
    return image.filter(ImageFilter.GaussianBlur(share * (face[2] - face[0])))


def noisy(image: Image.Image, sigma: float, rng: np.random.Generator) -> Image.Image:
    """Gaussian sensor noise of ``sigma`` grey levels on every pixel and channel."""
    rgb = np.asarray(image, dtype=np.float64) + rng.normal(0, sigma, (image.height, image.width, 3))
    return Image.fromarray(np.clip(np.round(rgb), 0, 255).astype(np.uint8))


def keystone(image: Image.Image, shrink: float) -> Image.Image:
    """The right edge ``shrink`` shorter than the left (a small yaw, as a perspective)."""
    w, h = image.size
    d = shrink * h / 2
    # PIL maps output (x, y) to input through the 8 coefficients; solve them from 4 corners.
    out = [(0, 0), (w, d), (w, h - d), (0, h)]
    src = [(0, 0), (w, 0), (w, h), (0, h)]
    rows, rhs = [], []
    for (x, y), (u, v) in zip(out, src, strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    coeffs = np.linalg.solve(np.array(rows, dtype=float), np.array(rhs, dtype=float))
    return image.transform(
        image.size, Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BICUBIC,
        fillcolor=(128, 128, 128),
    )  # fmt: skip


# ----------------------------------------------------------------------------- the families
HARD: dict[str, Edit] = {
    name: Edit(
        (lambda im, face, rng, change=change: change(im)),
        (BOX_SHIFT, BOX_SHIFT, 1.0) if name == "shift_5" else (0.0, 0.0, 1.0),
    )
    for name, change in VARIANTS.items()
}


def _combo(image: Image.Image, face: Box, rng: np.random.Generator) -> Image.Image:
    image = toned(zoomed(image, face, 0.8), 1.06, 0.92, 1.15)
    image = noisy(blurred(image, face, 0.006), 5, rng)
    return jpeg(rotated(squeezed(image, 0.93), 6), 35)


REPORT: dict[str, Edit] = {
    "zoom_70": Edit(lambda im, face, rng: zoomed(im, face, 0.7)),
    "warm_gamma_0.8": Edit(lambda im, face, rng: toned(im, 1.10, 0.85, 0.8)),
    "cool_gamma_1.35": Edit(lambda im, face, rng: toned(im, 0.88, 1.10, 1.35)),
    "blur_jpeg_30": Edit(lambda im, face, rng: jpeg(blurred(im, face, 0.012), 30)),
    "small_noisy_jpeg_50": Edit(lambda im, face, rng: jpeg(noisy(scaled(im, 0.4), 8, rng), 50)),
    "rotate_8_scale_50": Edit(lambda im, face, rng: scaled(rotated(im, 8), 0.5)),
    "squeeze_90_rotate_-8": Edit(lambda im, face, rng: rotated(squeezed(im, 0.9), -8)),
    "keystone_warm": Edit(lambda im, face, rng: keystone(toned(im, 1.05, 0.95, 1.0), 0.12)),
    "box_jitter_jpeg_70": Edit(lambda im, face, rng: jpeg(im, 70), (-0.06, -0.06, 1.08)),
    "combined": Edit(_combo, (0.03, -0.03, 0.95)),
}

THIRD = Edit(
    lambda im, face, rng: jpeg(toned(scaled(rotated(im, -3), 0.75), 0.95, 1.05, 1.1), 75),
    (0.03, 0.02, 1.04),
)
FAMILIES: dict[str, dict[str, Edit]] = {"hard": HARD, "report": REPORT}
