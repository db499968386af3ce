"""``face_check``: every face in each image (MTCNN), largest first, with 5 landmarks.

Answer per request: ``{"faces": [{"box", "landmarks", "confidence"}, ...], "count", "width",
"height"}`` or ``{"error": code}``. Handler settings (model-config ``handler:``):
``min_probability`` (0.9), ``min_face_size`` in px (20), ``min_side`` in px (images whose
shorter side is below it answer ``image_too_small``; never below ``min_face_size``, where MTCNN's
image pyramid is empty), ``num_threads`` (1).
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from core.schemas import FaceCheckAnswer
from model_server.runtime.face_detector import DetectedFace, FaceDetector
from model_server.runtime.handlers.base import ImageHandler


class FaceCheckHandler(ImageHandler):
    def load(self, context: Any) -> None:
        min_face_size = int(self.config.get("min_face_size", 20))
        self.min_side = max(self.min_side, min_face_size)
        self.detector = FaceDetector(
            min_probability=float(self.config.get("min_probability", 0.9)),
            min_face_size=min_face_size,
            device=self.device,
        )

    def predict(self, images: list[Image.Image]) -> list[list[DetectedFace]]:
        return self.detector.detect(images)

    def answer(self, image: Image.Image, faces: list[DetectedFace]) -> FaceCheckAnswer:
        return FaceCheckAnswer(
            faces=[face.as_answer() for face in faces],
            count=len(faces),
            width=image.width,
            height=image.height,
        )
