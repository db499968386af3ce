"""Auto-label geometry and crop coordinates on made-up boxes (the check against the London set's
hand-placed landmarks: tests/integration/training/test_autolabel.py)."""

from __future__ import annotations

import math

import pytest
from PIL import Image

from core.crop import upright_crop
from model_server.training.face_regions.autolabel import (
    face_in_crop,
    part_boxes,
)

BOX = (40.0, 20.0, 260.0, 280.0)
MARKS = [(100.0, 100.0), (200.0, 100.0), (150.0, 150.0), (120.0, 190.0), (180.0, 190.0)]


def test_part_boxes_geometry() -> None:
    boxes = part_boxes(BOX, MARKS)  # eye distance d = 100, eyes at y 100, nose tip 150
    assert boxes["face"] == BOX
    assert boxes["t_zone"] == pytest.approx((80.0, 60.0, 220.0, 168.0))  # brows..nose base
    assert boxes["jaw"] == pytest.approx((54.0, 168.0, 246.0, 260.0))  # nose base..chin
    assert boxes["t_zone"][3] == boxes["jaw"][1]  # they meet at the nose base


def test_part_boxes_scale_with_the_face() -> None:
    small = part_boxes([v / 2 for v in BOX], [(x / 2, y / 2) for x, y in MARKS])
    for part, box in part_boxes(BOX, MARKS).items():
        assert small[part] == pytest.approx([v / 2 for v in box])


def test_face_in_crop_undoes_the_roll() -> None:
    angle = math.radians(15)
    cx, cy = 150.0, 150.0

    def rot(p: tuple[float, float]) -> tuple[float, float]:
        x, y = p[0] - cx, p[1] - cy
        return (
            cx + x * math.cos(angle) - y * math.sin(angle),
            cy + x * math.sin(angle) + y * math.cos(angle),
        )

    marks = [rot(p) for p in MARKS]
    crop = upright_crop(Image.new("RGB", (300, 300)), BOX, marks[0], marks[1], size=320)
    box_c, marks_c = face_in_crop(crop, BOX, marks)
    assert marks_c[0][1] == pytest.approx(marks_c[1][1], abs=1e-6)  # eyes level in the crop
    scale = 320 / (260 * 1.5)  # crop pixels per original pixel
    assert box_c[2] - box_c[0] == pytest.approx(220 * scale)
    assert box_c[3] - box_c[1] == pytest.approx(260 * scale)
    # The upright geometry in the crop equals the original geometry, scaled.
    t_crop = part_boxes(box_c, marks_c)["t_zone"]
    t_orig = part_boxes(BOX, MARKS)["t_zone"]
    assert t_crop[2] - t_crop[0] == pytest.approx((t_orig[2] - t_orig[0]) * scale)
