"""The types and the reference catalog, as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from core.taxonomy import TypeSlug


class FaceTypeOut(BaseModel):
    slug: TypeSlug
    name: str
    name_ko: str
    rank: int = Field(description="1 (alpha) to 5 (omega)")
    description: str
    description_ko: str
    colour: str = Field(description="The type's colour (#rrggbb) on cards and in the client")


ReferenceBy = Literal["look-alike", "random"]


class ReferenceImage(BaseModel):
    id: str
    url: str = Field(description="Time-limited link")
    caption: str
    demo: bool
    similarity: float | None = Field(
        None,
        ge=0,
        le=1,
        description="A look-alike's face similarity to the person's (cosine of dlib face "
        "descriptors, 0-1); null when the references were drawn at random",
    )


class CatalogImageOut(BaseModel):
    id: str
    type: TypeSlug
    caption: str
    content_type: str
    demo: bool
    has_face: bool = Field(
        description="A face was found in it: it can be a look-alike (demo illustrations: no)"
    )
    created_at: datetime
    url: str
