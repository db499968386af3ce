"""The contract between the gateway and the model server: what it sends, every answer it gets.

The request is an image's bytes: the photo for ``face_check``, and for ``face_regions`` and
``face_type`` the upright face crop :data:`core.parameters.CROP` describes (made by
:func:`core.crop.upright_crop`); ``face_type`` also takes :class:`TypeRequest` (JSON: one to
three crops of one person, typed together). Those two answers state the crop they were trained on
(:class:`CropInfo`), and the gateway refuses an answer whose crop is not the one it sent, so a
model server deployed with another crop fails loudly instead of typing the wrong face box.
Handlers build these models and answer ``model_dump(mode="json")``; the gateway's client
validates TorchServe's JSON into them, so a field renamed on one side fails loudly at the
boundary, in tests, instead of deep inside the gateway.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.parameters import CROP, MAX_PHOTOS
from core.taxonomy import PartName, TypeSlug

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in the image's pixels
Point = tuple[float, float]
HandlerErrorCode = Literal[
    "image_corrupt", "image_too_many_pixels", "image_too_small", "image_unprocessable"
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
    """Where one face part is, as the region detector found it."""

    found: bool
    box: Box | None = Field(description="x1, y1, x2, y2 on the upright face crop")
    presence: float = Field(ge=0, le=1, description="The detector's score of the part's box")


class CropInfo(Answer):
    """The crop a model expects (:class:`core.parameters.CropSpec`)."""

    margin: float = Field(description="The face box's longer side widened by this on each side")
    size: int = Field(gt=0, description="Side of the square crop, px")

    @classmethod
    def served(cls) -> CropInfo:
        return cls(**CROP.as_dict())


class ServedModel(Answer):
    name: str
    version: str
    trained: bool = True


class RegionsAnswer(Answer):
    """``face_regions``: the three parts on an upright face crop."""

    complete: bool = Field(description="Every part found")
    regions: dict[PartName, Region]
    threshold: float
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    crop: CropInfo = Field(description="The crop the detector was trained on")
    model: ServedModel


Strength = Literal["clear", "likely", "borderline"]
Combination = Literal["seed_vote", "face", "average"]


class RegionType(Answer):
    """One region's type as the type model predicts it."""

    type: TypeSlug
    value: float = Field(description="Predicted rating, z-scored within sex (0 = average)")
    probability: float = Field(ge=0, le=1, description="Calibrated probability of ``type``")
    probabilities: dict[TypeSlug, float] = Field(description="Calibrated probability per type")
    strength: Strength = Field(
        description="clear: probability >= 0.5; likely: >= 0.35; borderline: below"
    )
    points: int = Field(description="Points this region's type adds to the score")


class TypeRequest(Answer):
    """``face_type``'s JSON request (``Content-Type: application/json``): one to three photos of
    one person, typed together. A raw image body is one crop."""

    crops: list[str] = Field(
        min_length=1,
        max_length=MAX_PHOTOS,
        description="Each photo's upright face crop (core.parameters.CROP) as base64 JPEG",
    )


class Identity(Answer):
    """Whether the photos show one person: their dlib face descriptors' distances."""

    threshold: float = Field(
        gt=0,
        description="The largest distance measured as one person (the model card's identity "
        "check); a larger one is another person",
    )
    distances: list[float] = Field(
        description="Each photo's Euclidean distance to the first photo on dlib's raw 128-d face "
        "descriptors (dlib's convention); the first is 0.0"
    )


class TypeAnswer(Answer):
    """``face_type``: each region's type, the seed's weighted score and the served type, of one
    photo or of several photos of one person combined."""

    type: TypeSlug
    combination: Combination = Field(description="What decides ``type``")
    score: int = Field(description="Sum of the regions' points (the seed's weighted score)")
    regions: dict[PartName, RegionType] = Field(
        description="Each region's type from its value combined over the photos (their mean)"
    )
    photos: int = Field(ge=1, le=MAX_PHOTOS, description="Photos combined into this answer")
    margin: float = Field(
        ge=0,
        description="How far the answer sits from the nearest bound that would change ``type``: "
        "the smallest joint move of the regions' values, in units of their measured noise "
        "under photo variants (for this many photos), that changes it; the model card gives "
        "how often answers at each margin changed type under photo edits",
    )
    near: TypeSlug | None = Field(
        description="The type across that nearest bound when ``margin`` < ``near_threshold``"
    )
    near_threshold: float = Field(
        ge=0, description="Margins from here on are clear answers (``near`` null)"
    )
    identity: Identity
    descriptor: list[float] = Field(
        min_length=128,
        max_length=128,
        description="The person's dlib face descriptor: the mean of the photos' raw 128-d "
        "descriptors, scaled to unit L2 norm (used in memory only; never stored)",
    )
    points: dict[PartName, list[int]] = Field(description="Points per type, alpha..omega")
    bounds: list[tuple[float, TypeSlug]] = Field(description="score > bound gives the type")
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    crop: CropInfo = Field(description="The crop the type model was trained on")
    model: ServedModel
