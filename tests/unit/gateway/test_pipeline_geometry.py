"""Faces are found on a downscaled copy and mapped back to the photo's pixels."""

from __future__ import annotations

import io

from PIL import Image

from gateway.pipeline import DETECT_SIDE, detection_jpeg, eye_to_chin, scale_faces


def test_large_photos_are_downscaled_and_small_ones_kept() -> None:
    data, scale = detection_jpeg(Image.new("RGB", (2 * DETECT_SIDE, DETECT_SIDE)))
    assert scale == 2.0 and Image.open(io.BytesIO(data)).size == (DETECT_SIDE, DETECT_SIDE // 2)
    data, scale = detection_jpeg(Image.new("RGB", (640, 480)))
    assert scale == 1.0 and Image.open(io.BytesIO(data)).size == (640, 480)


def test_faces_are_mapped_back_to_the_photo() -> None:
    face = {
        "box": [10.0, 20.0, 110.0, 220.0],
        "landmarks": {"left_eye": [40.0, 80.0], "right_eye": [80.0, 80.0]},
    }
    [scaled] = scale_faces({"faces": [face], "count": 1}, 2.0)["faces"]
    assert scaled["box"] == [20.0, 40.0, 220.0, 440.0]
    assert scaled["landmarks"]["right_eye"] == [160.0, 160.0]
    assert eye_to_chin(scaled) == 280.0
