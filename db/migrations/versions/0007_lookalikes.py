"""look-alike references: catalog images' face descriptors, an analysis's chosen references

- catalog_images.has_face and face_descriptor: the dlib descriptor (128 floats, unit norm) of
  the image's largest face, computed when the image is added (existing images: none);
- analyses.reference_choice: the references chosen when the result was made ("by", and each
  image's id and similarity), so that reading it again shows the same ones (the person's
  descriptor itself is never stored).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_images") as batch:
        batch.add_column(
            sa.Column("has_face", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("face_descriptor", sa.JSON(none_as_null=True), nullable=True))
        # the look-alike index's version query reads this index alone, not the descriptors
        batch.create_index(
            "ix_catalog_images_faces", ["type_id", "has_face", "created_at"], unique=False
        )
    with op.batch_alter_table("analyses") as batch:
        batch.add_column(sa.Column("reference_choice", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("analyses") as batch:
        batch.drop_column("reference_choice")
    with op.batch_alter_table("catalog_images") as batch:
        batch.drop_index("ix_catalog_images_faces")
        batch.drop_column("face_descriptor")
        batch.drop_column("has_face")
