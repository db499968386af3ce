"""Request and response models (the OpenAPI contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.validation import DATE_PATTERN, MBTI_PATTERN

TypeSlug = Literal["alpha", "beta", "gamma", "delta", "omega"]


class FaceTypeOut(BaseModel):
    slug: TypeSlug
    name: str
    rank: int = Field(description="1 (alpha) to 5 (omega)")
    description: str
    description_ko: str


class RegionOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    found: bool
    type: TypeSlug | None
    confidence: float = Field(description="Share of the region's detections on its type")
    presence: float = Field(description="Detection mass behind the region (>= threshold)")
    distribution: dict[str, float] = Field(description="Per-type share of the detections")
    box: list[float] | None = Field(None, description="x1, y1, x2, y2 on the upright face crop")
    polygon: list[list[float]] | None = Field(None, description="Corners on the uploaded photo")


class ReferenceImage(BaseModel):
    id: str
    url: str = Field(description="Time-limited link")
    caption: str
    demo: bool


class ModelInfo(BaseModel):
    name: str
    version: str


class Links(BaseModel):
    self: str
    share: str
    card: str
    delete: str


class AnalysisOut(BaseModel):
    id: str
    created_at: datetime
    type: FaceTypeOut
    score: int = Field(description="Weighted score (seed's rule): face, T-zone and jaw points")
    regions: dict[str, RegionOut]
    face_count: int = Field(description="Faces found; the largest was analysed")
    mbti: str
    references: list[ReferenceImage]
    model: ModelInfo
    share_opt_in: bool
    links: Links
    delete_token: str | None = Field(
        None, description="Only in the creation answer: needed to delete the result; keep it."
    )
    disclaimer: str = (
        "For entertainment: the type reflects a small model trained on public ratings of studio "
        "photos, not a judgement of worth."
    )


# Documented here, enforced by gateway.validation (so a bad value gets its own error code).
MBTI_SCHEMA: dict[str, Any] = {"pattern": MBTI_PATTERN, "examples": ["INTJ"]}
BIRTH_DATE_SCHEMA: dict[str, Any] = {
    "pattern": DATE_PATTERN,
    "format": "date",
    "examples": ["1995-04-17"],
    "description": "YYYY-MM-DD, an age of 14 to 120",
}


class AnalysisJSON(BaseModel):
    """The JSON form of POST /v1/analyses."""

    model_config = ConfigDict(extra="forbid")

    image_base64: str = Field(
        min_length=1, description="Base64 image or a data: URL (JPEG, PNG or WebP)"
    )
    mbti: str = Field(json_schema_extra=MBTI_SCHEMA)
    birth_date: str = Field(json_schema_extra=BIRTH_DATE_SCHEMA)
    share_opt_in: bool = False


class CatalogImageOut(BaseModel):
    id: str
    type: TypeSlug
    caption: str
    content_type: str
    demo: bool
    created_at: datetime
    url: str


class LegacyUser(BaseModel):
    user_img: str = Field(min_length=1, description="Base64 image (JPEG, PNG or WebP)")
    age: str = Field(
        json_schema_extra=BIRTH_DATE_SCHEMA
        | {"description": "Birth date, YYYY-MM-DD (the seed's field name)"}
    )
    mbti: str = Field(json_schema_extra=MBTI_SCHEMA)


class LegacyRequest(BaseModel):
    first_user: LegacyUser
    result: dict[str, Any] = Field(default_factory=dict)


class LegacyResponse(BaseModel):
    human: bool
    male_type: str | None = None
    dsc: str | None = None
    img1: str | None = None
    img2: str | None = None
    img3: str | None = None
    img4: str | None = None


class RegisterModel(BaseModel):
    archive: str = Field(
        description="A .mar file name in the model store", examples=["face_regions_v2.mar"]
    )
    initial_workers: int = Field(1, ge=0, le=8)


class DefaultVersion(BaseModel):
    version: str


class Workers(BaseModel):
    min_workers: int = Field(ge=0, le=8)
    max_workers: int | None = Field(None, ge=0, le=8)
    version: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details, plus a stable ``code`` and a human ``hint``."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    code: str
    hint: str
    instance: str | None = None
