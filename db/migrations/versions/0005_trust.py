"""trust II: public member ids, group activity, the birth month only, the consent's version

- group_members.member_id: the public id of a member in one group (random; existing members get
  one each), so that no public answer names a member's result;
- groups.active_at: the last start, join, leave or rotation (existing groups: their start), for
  the purge of idle groups;
- analyses.birth_month ("YYYY-MM") replaces analyses.birth_date: existing rows are coarsened;
- analyses.consent_version: the consent text the person agreed to (existing rows: none);
- analyses.stored_scale: the stored photo's pixels per analysed pixel (photos are now stored at
  most 1080 px long; existing rows: none, their photos are the analysed copy).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("group_members") as batch:
        batch.add_column(sa.Column("member_id", sa.String(length=24), nullable=True))
    members = sa.table(
        "group_members",
        sa.column("group_id", sa.String),
        sa.column("analysis_id", sa.String),
        sa.column("member_id", sa.String),
    )
    for group_id, analysis_id in bind.execute(
        sa.select(members.c.group_id, members.c.analysis_id)
    ).all():
        bind.execute(
            members.update()
            .where(members.c.group_id == group_id, members.c.analysis_id == analysis_id)
            .values(member_id=secrets.token_urlsafe(12))
        )
    with op.batch_alter_table("group_members") as batch:
        batch.alter_column("member_id", existing_type=sa.String(length=24), nullable=False)
        batch.create_unique_constraint(batch.f("uq_group_members_member_id"), ["member_id"])

    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("active_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE groups SET active_at = created_at")
    with op.batch_alter_table("groups") as batch:
        batch.alter_column("active_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.create_index(batch.f("ix_groups_active_at"), ["active_at"], unique=False)

    with op.batch_alter_table("analyses") as batch:
        batch.add_column(sa.Column("birth_month", sa.String(length=7), nullable=True))
        batch.add_column(sa.Column("consent_version", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("stored_scale", sa.Float(), nullable=True))
    op.execute("UPDATE analyses SET birth_month = substr(CAST(birth_date AS VARCHAR(10)), 1, 7)")
    with op.batch_alter_table("analyses") as batch:
        batch.alter_column("birth_month", existing_type=sa.String(length=7), nullable=False)
        batch.drop_column("birth_date")


def downgrade() -> None:
    """The days of birth are gone: a downgrade restores each row's first day of its month."""
    with op.batch_alter_table("analyses") as batch:
        batch.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
    first_day = "birth_month || '-01'"  # SQLite keeps dates as text (its CAST makes a number)
    if op.get_bind().dialect.name != "sqlite":
        first_day = f"CAST({first_day} AS DATE)"
    op.execute(f"UPDATE analyses SET birth_date = {first_day}")
    with op.batch_alter_table("analyses") as batch:
        batch.alter_column("birth_date", existing_type=sa.Date(), nullable=False)
        batch.drop_column("stored_scale")
        batch.drop_column("consent_version")
        batch.drop_column("birth_month")

    with op.batch_alter_table("groups") as batch:
        batch.drop_index(batch.f("ix_groups_active_at"))
        batch.drop_column("active_at")

    with op.batch_alter_table("group_members") as batch:
        batch.drop_constraint(batch.f("uq_group_members_member_id"), type_="unique")
        batch.drop_column("member_id")
