"""Groups as the API takes and gives them: a result joining with its delete token, the members
side by side."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.schemas import Strength
from core.taxonomy import PartName, TypeSlug
from gateway.validation import NICKNAME_MAX, NICKNAME_PATTERN

MAX_MEMBERS = 50
ID_PATTERN = "^[0-9A-Za-z-]{1,64}$"  # an analysis id (a UUID)
MEMBER_ID_PATTERN = "^[A-Za-z0-9_-]{1,24}$"  # a member's public id (URL-safe base64)
TOKEN_PATTERN = "^[A-Za-z0-9_-]{1,128}$"  # a delete token (URL-safe base64)
# Documented here, enforced by gateway.validation (so a bad nickname gets its own error code).
NICKNAME_SCHEMA: dict[str, Any] = {
    "minLength": 1,
    "maxLength": NICKNAME_MAX,
    "pattern": NICKNAME_PATTERN,
    "examples": ["민수", "Sam"],
    "description": (
        "How the group shows this member: 1-20 characters of the person's own text (shown as "
        "text everywhere, never as markup), at least one visible; no control, zero-width or "
        "bidi characters. Surrounding spaces are dropped."
    ),
}


class Membership(BaseModel):
    """A result joining a group (or starting one): its id, the proof it is yours, a nickname."""

    model_config = ConfigDict(extra="forbid")

    analysis_id: str = Field(pattern=ID_PATTERN, description="The result (`id` of its analysis)")
    delete_token: str = Field(
        pattern=TOKEN_PATTERN,
        description="The result's `delete_token` (from its creation answer): proves it is yours",
    )
    nickname: str = Field(json_schema_extra=NICKNAME_SCHEMA)


class MemberType(BaseModel):
    slug: TypeSlug
    name: str
    name_ko: str
    colour: str = Field(description="The type's colour (#rrggbb)")


class MemberRegion(BaseModel):
    """One face region of a member's result: its type and the points it added."""

    type: TypeSlug | None = None
    points: int | None = None
    strength: Strength | None = None
    colour: str | None = Field(None, description="How the part is drawn (like a type's colour)")


class MemberOut(BaseModel):
    member_id: str = Field(
        description="The member's id in this group (random; not its result's id, which stays "
        'private): leaving and "you vs X" use it'
    )
    nickname: str
    type: MemberType
    score: int = Field(description="The result's weighted score")
    regions: dict[PartName, MemberRegion] = Field(description="Face, T-zone and jaw")
    rank: int = Field(
        ge=1,
        description=(
            "1 for the highest score; equal scores share a rank and the next rank skips "
            "(1, 2, 2, 4). Members are listed by score, highest first, then by who joined first."
        ),
    )
    owner: bool = Field(description="This member started the group")
    joined_at: datetime
    photo_url: str | None = Field(
        None,
        description=(
            "The member's face as the share card crops it, only when they opted in to sharing "
            "their photo (`share_opt_in`); null otherwise: show the type's emblem."
        ),
    )


class GroupOut(BaseModel):
    code: str = Field(description="The invite code: unguessable (96 random bits), URL-safe")
    closed: bool = Field(
        description="Takes no new members: its owner closed it, left it or deleted their result"
    )
    invite_url: str = Field(description="The invite link (`/g/{code}`): opens the web client")
    card_url: str = Field(description="The group's 1200x630 PNG card")
    story_url: str = Field(description="The group's 1080x1920 PNG story image")
    max_members: int = MAX_MEMBERS
    members: list[MemberOut] = Field(description="By score, highest first")
    member_id: str | None = Field(
        None,
        description="Your own member id: only in the answer to the request that started the "
        "group (or rotated its invite); keep it to leave and to find yourself in the list",
    )
