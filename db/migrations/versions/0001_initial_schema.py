"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 11:43:47.162205
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_ko", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_types")),
        sa.UniqueConstraint("rank", name=op.f("uq_face_types_rank")),
        sa.UniqueConstraint("slug", name=op.f("uq_face_types_slug")),
    )
    op.create_table(
        "analyses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("object_key", sa.String(length=255), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("mbti", sa.String(length=4), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("face_count", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("delete_token_hash", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=16), nullable=False),
        sa.Column("share_opt_in", sa.Boolean(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("request_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["type_id"], ["face_types.id"], name=op.f("fk_analyses_type_id_face_types")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analyses")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_analyses_idempotency_key")),
        sa.UniqueConstraint("object_key", name=op.f("uq_analyses_object_key")),
    )
    with op.batch_alter_table("analyses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_analyses_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_analyses_image_sha256"), ["image_sha256"], unique=False
        )

    op.create_table(
        "catalog_images",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("object_key", sa.String(length=255), nullable=False),
        sa.Column("caption", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["type_id"],
            ["face_types.id"],
            name=op.f("fk_catalog_images_type_id_face_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_images")),
        sa.UniqueConstraint("object_key", name=op.f("uq_catalog_images_object_key")),
    )
    with op.batch_alter_table("catalog_images", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_images_type_id"), ["type_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("catalog_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_images_type_id"))

    op.drop_table("catalog_images")
    with op.batch_alter_table("analyses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analyses_image_sha256"))
        batch_op.drop_index(batch_op.f("ix_analyses_created_at"))

    op.drop_table("analyses")
    op.drop_table("face_types")
