"""analyses: several photos of one person, and how sure the type is

- photos: how many photos were combined (1 for every row before);
- extra_object_keys: the stored photos after the first (object_key); null when there is one;
- margin: the answer's distance to the nearest type bound in noise units (null before);
- near: the type across that bound when the answer is close to it (null: a clear answer).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("analyses") as batch:
        batch.add_column(sa.Column("photos", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("extra_object_keys", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("margin", sa.Float(), nullable=True))
        batch.add_column(sa.Column("near", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("analyses") as batch:
        batch.drop_column("near")
        batch.drop_column("margin")
        batch.drop_column("extra_object_keys")
        batch.drop_column("photos")
