"""Analyses as the API takes and gives them (and the seed's legacy shapes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.parameters import MAX_PHOTOS
from core.schemas import Combination, Region, Strength
from core.taxonomy import PartName, TypeSlug
from gateway.catalog.schemas import FaceTypeOut, ReferenceBy, ReferenceImage
from gateway.imaging import BASE64_PATTERN
from gateway.validation import DATE_PATTERN, MBTI_PATTERN


class RegionOut(Region):
    """A part: where the detector found it (drawn on the uploaded photo) and its type."""

    polygon: list[tuple[float, float]] | None = Field(
        None, description="The box's corners on the uploaded photo"
    )
    type: TypeSlug | None = Field(None, description="The type the region shows")
    probability: float | None = Field(
        None, ge=0, le=1, description="Calibrated probability of that type (see the model card)"
    )
    probabilities: dict[TypeSlug, float] | None = Field(None, description="Per type")
    strength: Strength | None = Field(
        None, description="clear (probability >= 50 %), likely (>= 35 %) or borderline"
    )
    points: int | None = Field(None, description="Points the region's type adds to the score")
    colour: str | None = Field(None, description="How the part is outlined (like a type's colour)")


class Verdict(BaseModel):
    """How the type was reached: the seed's weighted score, spelled out."""

    combination: Combination = Field(
        description="seed_vote: the score's bounds decide; face / average: that predictor does"
    )
    score: int
    points: dict[PartName, list[int]] = Field(description="Points per type, alpha..omega")
    bounds: list[tuple[float, TypeSlug]] = Field(description="score > bound gives the type")
    explanation: str = Field(examples=["face Beta 40 + T-zone Alpha 40 + jaw Gamma 6 = 86 > 85"])
    explanation_ko: str


class ModelInfo(BaseModel):
    name: str
    version: str


class Links(BaseModel):
    self: str
    share: str
    card: str
    delete: str


# Quotes the model card (tests/integration/training/test_type_model_card.py holds it to the card).
DISCLAIMER = (
    "For fun, not a judgement. Your type matches the raters' tier for 43 % of people (72 % "
    "within one tier). When your face sits between two types we say which one it is close to; "
    "adding selfies makes a clear answer more likely."
)


class AnalysisPublic(BaseModel):
    """A result as anyone holding its link sees it: the type, the score and the regions, never
    what the person told us (MBTI, birth) or when they came."""

    view: Literal["public", "owner"] = Field(
        "public", description="public: without the result's X-Delete-Token; owner: with it"
    )
    id: str
    type: FaceTypeOut
    score: int = Field(description="Weighted score (seed's rule): face, T-zone and jaw points")
    verdict: Verdict | None = Field(None, description="The score's arithmetic (None: older rows)")
    regions: dict[str, RegionOut]
    photos: int = Field(1, ge=1, le=MAX_PHOTOS, description="Photos of the person combined")
    margin: float | None = Field(
        None,
        ge=0,
        description="How far the type sits from the nearest type bound, in units of its "
        "measured noise under photo edits (the model card gives how often answers at each "
        "margin changed type); null for results from before margins",
    )
    near: TypeSlug | None = Field(
        None,
        description='The neighbouring type when the answer is close to it ("Gamma, close to '
        'Beta"); null: a clear answer. Another selfie or two usually settles it',
    )
    references_by: ReferenceBy = Field(
        "random",
        description="look-alike: the type's catalog faces nearest the person's, each with its "
        "similarity; random: drawn at random (the type has too few catalog faces, or the "
        "service is set so)",
    )
    references: list[ReferenceImage]
    model: ModelInfo
    links: Links
    disclaimer: str = DISCLAIMER


class AnalysisOut(AnalysisPublic):
    """The whole result, for its owner: the creation answer, or a read with its delete token."""

    view: Literal["public", "owner"] = "owner"
    created_at: datetime
    face_count: int = Field(description="Faces found; the largest was analysed")
    mbti: str
    share_opt_in: bool
    delete_token: str | None = Field(
        None, description="Only in the creation answer: needed to delete the result; keep it."
    )


# Documented here, enforced by gateway.validation (so a bad value gets its own error code).
MBTI_SCHEMA: dict[str, Any] = {"pattern": MBTI_PATTERN, "examples": ["INTJ"]}


def required_in_schema(*names: str) -> Callable[[dict[str, Any]], None]:
    """A model's ``json_schema_extra`` stating ``names`` as required, without their defaults:
    fields the service checks itself, so that a missing one gets its own error code."""

    def extra(schema: dict[str, Any]) -> None:
        schema["required"] = sorted({*schema.get("required", []), *names})
        for name in names:
            schema["properties"][name].pop("default", None)

    return extra


# Enforced by the service (a missing or stale consent is `422 consent_required`).
CONSENT_SCHEMA: dict[str, Any] = {
    "minLength": 1,
    "maxLength": 64,
    "description": "The `version` of GET /v1/consent: the person agreed to that text",
    "examples": ["2026-12-07-1a2b3c4d"],
}
BIRTH_DATE_SCHEMA: dict[str, Any] = {
    "pattern": DATE_PATTERN,
    "format": "date",
    "examples": ["1995-04-17"],
    "description": "YYYY-MM-DD, an age of 14 to 120",
}


Base64Image = Annotated[
    str,
    Field(
        min_length=1,
        description="Base64 image or a data: URL (JPEG, PNG, WebP or HEIC)",
        json_schema_extra={"pattern": BASE64_PATTERN},
    ),
]


def one_photo_form(schema: dict[str, Any]) -> None:
    """The JSON schema's account of :class:`AnalysisJSON`: the consent required, and exactly
    one of ``image_base64`` and ``images_base64``."""
    required_in_schema("consent")(schema)
    for name in ("image_base64", "images_base64"):
        schema["properties"][name].pop("default", None)
    schema["oneOf"] = [{"required": ["image_base64"]}, {"required": ["images_base64"]}]


class AnalysisJSON(BaseModel):
    """The JSON form of POST /v1/analyses: one photo (``image_base64``) or one to three
    photos of one person (``images_base64``), never both."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=one_photo_form)

    image_base64: Base64Image = ""
    images_base64: list[Base64Image] = Field(
        default_factory=list,
        min_length=1,
        max_length=MAX_PHOTOS,
        description=f"One to {MAX_PHOTOS} photos of one person, combined into one steadier type",
    )
    mbti: str = Field(json_schema_extra=MBTI_SCHEMA)
    birth_date: str = Field(json_schema_extra=BIRTH_DATE_SCHEMA)
    share_opt_in: bool = False
    consent: str = Field("", json_schema_extra=CONSENT_SCHEMA)

    @property
    def images(self) -> list[str] | None:
        """The photos' base64, or None unless exactly one of the two forms was sent."""
        given = {"image_base64", "images_base64"} & self.model_fields_set
        if len(given) != 1:
            return None
        return self.images_base64 if "images_base64" in given else [self.image_base64]


class LegacyUser(BaseModel):
    user_img: str = Field(
        min_length=1,
        description="Base64 image or a data: URL (JPEG, PNG, WebP or HEIC)",
        json_schema_extra={"pattern": BASE64_PATTERN},
    )
    age: str = Field(
        json_schema_extra=BIRTH_DATE_SCHEMA
        | {"description": "Birth date, YYYY-MM-DD (the seed's field name)"}
    )
    mbti: str = Field(json_schema_extra=MBTI_SCHEMA)


class LegacyRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra=required_in_schema("consent"))

    first_user: LegacyUser
    result: dict[str, Any] = Field(default_factory=dict)
    consent: str = Field(
        "",
        json_schema_extra=CONSENT_SCHEMA
        | {"description": "GET /v1/consent's version: the seed's client must ask for it too"},
    )


class LegacyResponse(BaseModel):
    human: bool
    male_type: str | None = None
    dsc: str | None = None
    img1: str | None = None
    img2: str | None = None
    img3: str | None = None
    img4: str | None = None
