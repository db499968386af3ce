"""MTCNN face detection with the weights that ship inside the facenet-pytorch wheel.

Used by the ``face_check`` handler and by the training pipeline's auto-labeller, so both see
faces the same way. Landmarks are, in order: left eye, right eye, nose, mouth left, mouth right
(left/right as they appear in the image).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from facenet_pytorch import MTCNN
from PIL import Image

from core import schemas
from core.taxonomy import LANDMARKS


@dataclass(frozen=True)
class DetectedFace:
    box: tuple[float, float, float, float]
    landmarks: tuple[tuple[float, float], ...]
    probability: float

    @property
    def area(self) -> float:
        return max(0.0, self.box[2] - self.box[0]) * max(0.0, self.box[3] - self.box[1])

    def as_answer(self) -> schemas.Face:
        """The contract's face: coordinates to 0.01 px, probability to 5 places."""
        return schemas.Face(
            box=tuple(round(v, 2) for v in self.box),  # type: ignore[arg-type]
            landmarks=schemas.Landmarks(
                **{
                    name: (round(x, 2), round(y, 2))
                    for name, (x, y) in zip(LANDMARKS, self.landmarks, strict=True)
                }
            ),
            confidence=min(1.0, round(self.probability, 5)),
        )


class FaceDetector:
    """Every face in each image, largest first, at or above ``min_probability``."""

    def __init__(
        self,
        *,
        min_probability: float = 0.9,
        min_face_size: int = 20,
        device: str | torch.device = "cpu",
    ) -> None:
        self.min_probability = min_probability
        self.mtcnn = MTCNN(keep_all=True, min_face_size=min_face_size, device=device).eval()

    @torch.inference_mode()
    def detect(self, images: Sequence[Image.Image]) -> list[list[DetectedFace]]:
        results = []
        for image in images:  # MTCNN batches only same-sized images; requests rarely are
            boxes, probs, points = self.mtcnn.detect(image.convert("RGB"), landmarks=True)
            faces = []
            if boxes is not None:
                for box, prob, pts in zip(boxes, probs, points, strict=True):
                    if prob is None or float(prob) < self.min_probability:
                        continue
                    faces.append(
                        DetectedFace(
                            box=tuple(float(v) for v in box),  # type: ignore[arg-type]
                            landmarks=tuple((float(x), float(y)) for x, y in pts),
                            probability=float(prob),
                        )
                    )
            results.append(sorted(faces, key=lambda f: f.area, reverse=True))
        return results
