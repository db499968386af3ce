"""Faces are found on a downscaled copy and mapped back to the photo's pixels."""

from __future__ import annotations

import io

from PIL import Image

from core.schemas import FaceCheckAnswer
from gateway.faces import DETECT_SIDE, detection_jpeg, scale_faces


def test_large_photos_are_downscaled_and_small_ones_kept() -> None:
    data, scale = detection_jpeg(Image.new("RGB", (2 * DETECT_SIDE, DETECT_SIDE)))
    assert scale == 2.0 and Image.open(io.BytesIO(data)).size == (DETECT_SIDE, DETECT_SIDE // 2)
    data, scale = detection_jpeg(Image.new("RGB", (640, 480)))
    assert scale == 1.0 and Image.open(io.BytesIO(data)).size == (640, 480)


def test_faces_are_mapped_back_to_the_photo() -> None:
    marks = {"left_eye": [40, 80], "right_eye": [80, 80], "nose": [60, 120]}
    marks |= {"mouth_left": [45, 160], "mouth_right": [75, 160]}
    face = {"box": [10, 20, 110, 220], "landmarks": marks, "confidence": 0.99}
    answer = FaceCheckAnswer.model_validate(
        {"faces": [face], "count": 1, "width": 640, "height": 480}
    )
    [scaled] = scale_faces(answer, 2.0).faces
    assert scaled.box == (20.0, 40.0, 220.0, 440.0)
    assert scaled.landmarks.right_eye == (160.0, 160.0)
    assert scaled.eye_to_chin == 280.0 == 2 * answer.faces[0].eye_to_chin
