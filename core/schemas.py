"""The contract between the gateway and the model server: every answer a handler gives.

Handlers build these models and answer ``model_dump(mode="json")``; the gateway's client
validates TorchServe's JSON into them, so a field renamed on one side fails loudly at the
boundary, in tests, instead of deep inside the gateway.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.taxonomy import PartName, TypeSlug

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in the image's pixels
Point = tuple[float, float]
HandlerErrorCode = Literal[
    "image_corrupt", "image_too_large", "image_too_small", "image_unprocessable"
]


class Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HandlerError(Answer):
    """A request the handler refused because of its input (the gateway answers 4xx)."""

    error: HandlerErrorCode


class Landmarks(Answer):
    """MTCNN's five points; left and right as they appear in the image."""

    left_eye: Point
    right_eye: Point
    nose: Point
    mouth_left: Point
    mouth_right: Point


class Face(Answer):
    box: Box
    landmarks: Landmarks
    confidence: float = Field(ge=0, le=1)

    @property
    def eye_to_chin(self) -> float:
        """Eye line to the bottom of the face box, in pixels: the face-size measure."""
        eye_y = (self.landmarks.left_eye[1] + self.landmarks.right_eye[1]) / 2
        return self.box[3] - eye_y


class FaceCheckAnswer(Answer):
    """``face_check``: every face, largest first."""

    faces: list[Face]
    count: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class Region(Answer):
    """One face part's decision."""

    found: bool
    type: TypeSlug | None
    box: Box | None = Field(description="x1, y1, x2, y2 on the upright face crop")
    confidence: float = Field(ge=0, le=1, description="Share of the part's detections on its type")
    presence: float = Field(ge=0, description="Detection mass behind the part")
    distribution: dict[TypeSlug, float] = Field(description="Per-type share of the detections")


class ServedModel(Answer):
    name: str
    version: str
    trained: bool = True


class RegionsAnswer(Answer):
    """``face_regions``: the three parts, their types and the seed's weighted score."""

    outcome: TypeSlug | Literal["regions_incomplete"]
    type: TypeSlug | None
    score: int | None
    regions: dict[PartName, Region]
    rule: Literal["summed", "single"]
    threshold: float
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    model: ServedModel
