"""Queries of groups and their members; callers own the transaction.

A group is closed when its owner closes it, leaves it or deletes their result, and removed
once it holds no member: :func:`detach_analysis` is how a result leaves every group at once
(its deletion and the retention purge), :func:`remove_member` how one member leaves one, and
:func:`delete_idle_groups` how the purge removes groups nobody has touched for the retention
period. A member is known to the public by its ``member_id`` alone (:func:`get_member`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager

from db.models import Analysis, Group, GroupMember, utcnow


async def get_group(session: AsyncSession, code: str, *, lock: bool = False) -> Group | None:
    """The group of an invite code; with ``lock``, its row is locked until the transaction
    ends (joins of one group are counted one at a time)."""
    query = select(Group).where(Group.code == code)
    return await session.scalar(query.with_for_update() if lock else query)


async def list_members(session: AsyncSession, group_id: str) -> Sequence[GroupMember]:
    """Every member with its result and type: highest score first, then earliest joined."""
    query = (
        select(GroupMember)
        .join(Analysis, Analysis.id == GroupMember.analysis_id)
        .options(contains_eager(GroupMember.analysis).joinedload(Analysis.face_type))
        .where(GroupMember.group_id == group_id)
        .order_by(
            Analysis.score.desc().nulls_last(), GroupMember.joined_at, GroupMember.analysis_id
        )
    )
    return (await session.scalars(query)).all()


async def get_member(session: AsyncSession, group_id: str, member_id: str) -> GroupMember | None:
    """The member of the group with that public id."""
    query = select(GroupMember).where(
        GroupMember.group_id == group_id, GroupMember.member_id == member_id
    )
    return await session.scalar(query)


async def get_membership(
    session: AsyncSession, group_id: str, analysis_id: str
) -> GroupMember | None:
    """The result's membership of the group, if it is a member."""
    return await session.get(GroupMember, (group_id, analysis_id))


async def count_members(session: AsyncSession, group_id: str) -> int:
    query = select(func.count()).select_from(GroupMember).where(GroupMember.group_id == group_id)
    return int(await session.scalar(query) or 0)


async def delete_empty_groups(session: AsyncSession, group_ids: Collection[str]) -> int:
    """Remove those of ``group_ids`` that have no member left."""
    if not group_ids:
        return 0
    members = select(GroupMember.group_id).where(GroupMember.group_id.in_(group_ids))
    result = await session.execute(
        delete(Group).where(Group.id.in_(group_ids), Group.id.not_in(members))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def close(group: Group, now: datetime | None = None) -> None:
    """Mark the group closed (no more joins), once."""
    if group.closed_at is None:
        group.closed_at = now or utcnow()


def touch(group: Group) -> None:
    """Someone started, joined, left or rotated the group: it is active now."""
    group.active_at = utcnow()


async def remove_member(session: AsyncSession, group: Group, analysis_id: str) -> None:
    """One member leaves: the owner leaving closes the group; an empty group is removed."""
    await session.execute(
        delete(GroupMember).where(
            GroupMember.group_id == group.id, GroupMember.analysis_id == analysis_id
        )
    )
    if group.owner_analysis_id == analysis_id:
        close(group)
    touch(group)
    await session.flush()
    await delete_empty_groups(session, [group.id])


async def detach_analysis(session: AsyncSession, analysis_id: str) -> int:
    """A result leaves every group before it is deleted: the groups it owns are closed and
    lose their owner, its memberships go, and the groups left empty are removed (how many:
    the answer)."""
    owned = (
        await session.scalars(select(Group).where(Group.owner_analysis_id == analysis_id))
    ).all()
    for group in owned:
        close(group)
        group.owner_analysis_id = None
    member_of = select(GroupMember.group_id).where(GroupMember.analysis_id == analysis_id)
    touched = {group.id for group in owned} | set((await session.scalars(member_of)).all())
    await session.execute(delete(GroupMember).where(GroupMember.analysis_id == analysis_id))
    await session.flush()
    return await delete_empty_groups(session, touched)


async def delete_idle_groups(session: AsyncSession, idle_since: datetime) -> int:
    """Remove the groups not started, joined, left or rotated since ``idle_since``, with their
    memberships (the results stay: they have their own retention)."""
    idle = select(Group.id).where(Group.active_at < idle_since)
    await session.execute(delete(GroupMember).where(GroupMember.group_id.in_(idle)))
    result = await session.execute(delete(Group).where(Group.active_at < idle_since))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def count_idle_groups(session: AsyncSession, idle_since: datetime) -> int:
    query = select(func.count()).select_from(Group).where(Group.active_at < idle_since)
    return int(await session.scalar(query) or 0)
