"""Auto-labels on London photos (the real face detector) against the hand-placed landmarks (the
geometry on made-up boxes: tests/unit/training/test_autolabel.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_server.training.face_regions.autolabel import (
    autolabel_images,
    compare_with_landmarks,
    reference_boxes,
)


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
