"""The types and the reference catalog, as the API shows them."""

from __future__ import annotations

from datetime import datetime

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


class ReferenceImage(BaseModel):
    id: str
    url: str = Field(description="Time-limited link")
    caption: str
    demo: bool


class CatalogImageOut(BaseModel):
    id: str
    type: TypeSlug
    caption: str
    content_type: str
    demo: bool
    created_at: datetime
    url: str
