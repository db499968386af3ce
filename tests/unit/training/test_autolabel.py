"""Auto-label geometry, crop coordinates and the check against hand-placed landmarks."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from PIL import Image

from core.crop import upright_crop
from model_server.training.face_regions.autolabel import (
    autolabel_images,
    compare_with_landmarks,
    face_in_crop,
    part_boxes,
    reference_boxes,
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


@pytest.mark.dataset
def test_reference_boxes_are_ordered(dataset_dir: Path) -> None:
    faces = json.loads((dataset_dir / "landmarks" / "neutral_front_189pt.json").read_text())[
        "faces"
    ]
    ref = reference_boxes(faces["001_03"]["points"])
    face, t_zone, jaw = ref["face"], ref["t_zone"], ref["jaw"]
    assert face[0] < t_zone[0] < t_zone[2] < face[2]
    assert face[1] < t_zone[1] < t_zone[3] == jaw[1] < jaw[3] == face[3]


@pytest.mark.dataset
def test_autolabels_agree_with_hand_landmarks(dataset_dir: Path) -> None:
    images = sorted((dataset_dir / "images").glob("*_03.jpg"))[:4]
    coco = autolabel_images(images)
    assert len(coco["images"]) == 4 and len(coco["annotations"]) == 12
    for ann in coco["annotations"]:
        x, y, w, h = ann["bbox"]
        assert x >= 0 and y >= 0 and x + w <= 320 and y + h <= 320 and w > 20 and h > 20
    landmarks = json.loads((dataset_dir / "landmarks" / "neutral_front_189pt.json").read_text())
    check = compare_with_landmarks(coco, landmarks)
    assert check["images"] == 4
    assert all(v > 0.75 for v in check["mean_iou"].values()), check
