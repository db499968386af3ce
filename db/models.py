"""ORM models: face types, catalog images, analyses (spec section 4), groups (spec section 8)."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """An unguessable id (UUID4, 122 random bits)."""
    return str(uuid.uuid4())


def new_member_id() -> str:
    """A group member's public id: 96 random bits, URL-safe, unrelated to the result's id."""
    return secrets.token_urlsafe(12)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class FaceType(Base):
    __tablename__ = "face_types"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    description: Mapped[str] = mapped_column(Text)
    description_ko: Mapped[str] = mapped_column(Text)

    images: Mapped[list[CatalogImage]] = relationship(back_populates="face_type")


class CatalogImage(Base):
    __tablename__ = "catalog_images"
    # the look-alike index's version query reads this index alone, not the descriptors
    __table_args__ = (Index("ix_catalog_images_faces", "type_id", "has_face", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    type_id: Mapped[int] = mapped_column(
        ForeignKey("face_types.id", ondelete="CASCADE"), index=True
    )
    object_key: Mapped[str] = mapped_column(String(255), unique=True)
    caption: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(32))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # the largest face's dlib descriptor (128 floats, unit norm): look-alike references
    has_face: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    face_descriptor: Mapped[list[float] | None] = mapped_column(
        JSON(none_as_null=True), nullable=True
    )

    face_type: Mapped[FaceType] = relationship(back_populates="images")


class Analysis(Base):
    __tablename__ = "analyses"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    object_key: Mapped[str] = mapped_column(String(255), unique=True)
    image_sha256: Mapped[str] = mapped_column(String(64), index=True)
    mbti: Mapped[str] = mapped_column(String(4))
    # "YYYY-MM": the age rule is checked on the full date at the request; only this is kept
    birth_month: Mapped[str] = mapped_column(String(7))
    outcome: Mapped[str] = mapped_column(String(32))
    type_id: Mapped[int | None] = mapped_column(ForeignKey("face_types.id"), nullable=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    regions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    face_count: Mapped[int] = mapped_column(Integer, default=1)
    # one to three photos of one person; object_key is the first, these the others
    photos: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    extra_object_keys: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # how sure: the distance to the nearest type bound in noise units, and the type across it
    # when the answer is close (None: clear, or a row from before margins)
    margin: Mapped[float | None] = mapped_column(Float, nullable=True)
    near: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # the references chosen with the result: {"by": "look-alike" | "random", "images":
    # [{"id", "similarity"}]} (catalog images only; never the person's descriptor)
    reference_choice: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # stored photo pixels per analysed pixel (regions are in the analysed copy's pixels; the
    # stored photo is smaller): None for rows from before photos were stored smaller
    stored_scale: Mapped[float | None] = mapped_column(Float, nullable=True)
    model_name: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(32))
    delete_token_hash: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(16), default="web")
    share_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    request_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # the consent text's version the person agreed to (None: rows from before consent was asked)
    consent_version: Mapped[str | None] = mapped_column(String(32), nullable=True)

    face_type: Mapped[FaceType | None] = relationship()

    @property
    def object_keys(self) -> list[str]:
        """Every stored photo of the analysis, the first first."""
        return [self.object_key, *(self.extra_object_keys or [])]


class Group(Base):
    """Friends comparing their results: opened by one result (the owner), joined by others.

    ``owner_analysis_id`` is None once the owner's result is deleted; the group is closed then.
    """

    __tablename__ = "groups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    owner_analysis_id: Mapped[str | None] = mapped_column(
        ForeignKey("analyses.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # the last start, join, leave or rotation: groups idle past the retention period are purged
    active_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


class GroupMember(Base):
    """One result in one group, under the nickname its owner chose. The public knows a member
    by ``member_id`` (random, of this group only), never by its result's id."""

    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    analysis_id: Mapped[str] = mapped_column(
        ForeignKey("analyses.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    member_id: Mapped[str] = mapped_column(String(24), unique=True, default=new_member_id)
    nickname: Mapped[str] = mapped_column(String(20))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    analysis: Mapped[Analysis] = relationship()


class RateLimitState(Base):
    """One client's GCRA arrival time (gateway.overload.ratelimit.DatabaseStore)."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)
