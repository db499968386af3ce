"""Upright face crops, shared by the gateway (serving) and the training pipeline.

Pure Pillow, no torch: the crop that the region detector is trained on is exactly the crop the
gateway sends it. The crop is one affine transform, kept as a 2x3 matrix mapping crop pixels to
original pixels, so boxes found on the crop can be drawn over the original photo.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from core.parameters import CROP
from core.schemas import Point


@dataclass(frozen=True)
class Crop:
    image: Image.Image
    matrix: tuple[float, float, float, float, float, float]  # crop (u, v) -> original (x, y)

    def to_original(self, point: Sequence[float]) -> Point:
        a, b, c, d, e, f = self.matrix
        u, v = point[0], point[1]
        return (a * u + b * v + c, d * u + e * v + f)

    def to_crop(self, point: Sequence[float]) -> Point:
        a, b, c, d, e, f = self.matrix
        det = a * e - b * d
        x, y = point[0] - c, point[1] - f
        return ((e * x - b * y) / det, (a * y - d * x) / det)

    def box_to_original(self, box: Sequence[float]) -> list[Point]:
        """The four corners of a crop-space box in original coordinates (it may be rotated)."""
        x1, y1, x2, y2 = box
        return [self.to_original(p) for p in ((x1, y1), (x2, y1), (x2, y2), (x1, y2))]


def eye_angle(left_eye: Sequence[float], right_eye: Sequence[float]) -> float:
    """Roll of the face in degrees (positive when the right-hand eye in the image is lower)."""
    return math.degrees(math.atan2(right_eye[1] - left_eye[1], right_eye[0] - left_eye[0]))


def upright_crop(
    image: Image.Image,
    box: Sequence[float],
    left_eye: Sequence[float],
    right_eye: Sequence[float],
    *,
    margin: float = CROP.margin,
    size: int = CROP.size,
) -> Crop:
    """A square ``size`` x ``size`` crop of the face in ``box``, rotated so the eyes are level.

    The defaults are the served crop (:data:`core.parameters.CROP`). ``margin`` widens the box's
    longer side on each side by that fraction. Pixels outside the photo come out black.
    """
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    side = max(x2 - x1, y2 - y1) * (1 + 2 * margin)
    scale = side / size
    theta = math.radians(eye_angle(left_eye, right_eye))
    cos, sin = math.cos(theta) * scale, math.sin(theta) * scale
    half = size / 2
    matrix = (cos, -sin, cx - cos * half + sin * half, sin, cos, cy - sin * half - cos * half)
    out = image.convert("RGB").transform(
        (size, size), Image.Transform.AFFINE, matrix, resample=Image.Resampling.BILINEAR
    )
    return Crop(out, matrix)
