"""Compare with friends (spec 8): a result starts a group, others join it, each with its delete
token; the members side by side, ranked by score.

No FastAPI here. Every write proves ownership of a result with its delete token
(:func:`gateway.analyses.service.token_matches`). A join locks the group's row, so that at most
:data:`MAX_MEMBERS` get in; a result is a member of a group once at most. The public knows each
member by a random id of this group (``member_id``), never by its result's id, and sees of it
its nickname, type, score and regions only. The owner can rotate the invite code: the old link
then finds nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.taxonomy import PART_COLOURS, PARTS, TYPE_COLOURS, TYPE_NAMES_KO
from db import groups, queries
from db.models import Analysis, Group, GroupMember, new_member_id
from gateway.analyses.service import token_matches
from gateway.config import Settings
from gateway.errors import Forbidden, GroupClosed, GroupFull, NotFound
from gateway.groups.schemas import MAX_MEMBERS, GroupOut, MemberOut, MemberRegion, MemberType
from gateway.validation import normalise_nickname

CODE_BYTES = 12  # 96 random bits: 16 URL-safe characters


def new_code() -> str:
    """An invite code nobody can guess or enumerate."""
    return secrets.token_urlsafe(CODE_BYTES)


def ranks(scores: Sequence[int]) -> list[int]:
    """Competition ranks of scores sorted highest first: ties share one (1, 2, 2, 4)."""
    out: list[int] = []
    for index, score in enumerate(scores):
        out.append(out[-1] if index and score == scores[index - 1] else index + 1)
    return out


@dataclass(frozen=True)
class GroupView:
    """A group and its members (each with its result and type), highest score first."""

    group: Group
    members: Sequence[GroupMember]

    @property
    def ranks(self) -> list[int]:
        return ranks([member.analysis.score or 0 for member in self.members])


@dataclass(frozen=True)
class Joined:
    member: MemberOut
    created: bool  # False: the result was already a member


def member_type(analysis: Analysis) -> MemberType:
    assert analysis.face_type is not None
    slug = analysis.face_type.slug
    return MemberType(
        slug=slug,  # type: ignore[arg-type]
        name=analysis.face_type.name,
        name_ko=TYPE_NAMES_KO[slug],  # type: ignore[index]
        colour=TYPE_COLOURS[slug],  # type: ignore[index]
    )


def member_regions(analysis: Analysis) -> dict[str, MemberRegion]:
    regions = analysis.regions or {}
    return {
        part: MemberRegion.model_validate(
            {key: (regions.get(part) or {}).get(key) for key in ("type", "points", "strength")}
            | {"colour": PART_COLOURS[part]}
        )
        for part in PARTS
    }


class GroupService:
    """Groups: start, join, read, leave, close; each call opens its own session."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings

    # --- writes ---------------------------------------------------------------------------
    async def create(self, analysis_id: str, token: str, nickname: object) -> GroupOut:
        """A group started by a result, its first member and owner (the answer names the
        owner's ``member_id``)."""
        name = normalise_nickname(nickname)
        async with self.sessions() as session, session.begin():
            analysis = await self._owned(session, analysis_id, token)
            group = Group(code=new_code(), owner_analysis_id=analysis.id)
            session.add(group)
            await session.flush()
            member_id = new_member_id()
            session.add(
                GroupMember(
                    group_id=group.id, analysis_id=analysis.id, nickname=name, member_id=member_id
                )
            )
        answer = await self.get(group.code)
        return answer.model_copy(update={"member_id": member_id})

    async def rotate(self, code: str, token: str) -> GroupOut:
        """The owner gives the group a new invite code; the old one finds nothing from now on
        (a closed group keeps its code: it takes nobody in anyway)."""
        async with self.sessions() as session, session.begin():
            group = await self._group(session, code, lock=True)
            owner = await self._owner(session, group, token)
            if group.closed:
                raise GroupClosed("This group is closed: its invite admits nobody.")
            group.code = code = new_code()
            groups.touch(group)
            membership = await groups.get_membership(session, group.id, owner.id)
            member_id = membership.member_id if membership else None  # the owner may have left
        answer = await self.get(code)
        return answer.model_copy(update={"member_id": member_id})

    async def join(self, code: str, analysis_id: str, token: str, nickname: object) -> Joined:
        """The result joins the group; joining again changes nothing."""
        name = normalise_nickname(nickname)
        try:
            created = await self._join(code, analysis_id, token, name)
        except IntegrityError:  # the same result joined twice at once: it is in, once
            created = False
        view = await self.find(code)
        found = [m for m in view.members if m.analysis_id == analysis_id] if view else []
        if view is None or not found:  # it left (or the group went) in the meantime
            raise NotFound("No group with that code.")
        member = next(m for m in self.answer(view).members if m.member_id == found[0].member_id)
        return Joined(member, created)

    async def _join(self, code: str, analysis_id: str, token: str, nickname: str) -> bool:
        async with self.sessions() as session, session.begin():
            group = await self._group(session, code, lock=True)
            await self._owned(session, analysis_id, token)
            if group.closed:
                raise GroupClosed("This group is closed to new members.")
            if await groups.get_membership(session, group.id, analysis_id):
                return False
            session.add(GroupMember(group_id=group.id, analysis_id=analysis_id, nickname=nickname))
            groups.touch(group)
            await session.flush()
            # counted after the insert: on SQLite, whose writers queue rather than lock the row
            if await groups.count_members(session, group.id) > MAX_MEMBERS:
                raise GroupFull(
                    f"A group holds at most {MAX_MEMBERS} members.", max_members=MAX_MEMBERS
                )
        return True

    async def leave(self, code: str, member_id: str, token: str) -> None:
        """The member leaves (with its own result's token); the owner leaving closes it."""
        async with self.sessions() as session, session.begin():
            group = await self._group(session, code, lock=True)
            member = await groups.get_member(session, group.id, member_id)
            if member is None:
                raise NotFound("No member with that id in this group.")
            await self._owned(session, member.analysis_id, token)
            await groups.remove_member(session, group, member.analysis_id)

    async def close(self, code: str, token: str) -> None:
        """The owner closes the group to new members (again: nothing changes)."""
        async with self.sessions() as session, session.begin():
            group = await self._group(session, code, lock=True)
            await self._owner(session, group, token)
            groups.close(group)

    async def _owner(self, session: AsyncSession, group: Group, token: str) -> Analysis:
        """The owner's result, when ``token`` is its delete token."""
        owner = None
        if group.owner_analysis_id:
            owner = await queries.get_analysis(session, group.owner_analysis_id)
        if owner is None or not token_matches(owner, token):
            raise Forbidden("Only the group's owner can do that, with their result's token.")
        return owner

    async def _group(self, session: AsyncSession, code: str, *, lock: bool = False) -> Group:
        group = await groups.get_group(session, code, lock=lock)
        if group is None:
            raise NotFound("No group with that code.", hint="Check the invite link.")
        return group

    async def _owned(self, session: AsyncSession, analysis_id: str, token: str) -> Analysis:
        """The typed result ``analysis_id``, when ``token`` is its delete token."""
        analysis = await queries.get_analysis(session, analysis_id)
        if analysis is None or analysis.face_type is None or analysis.score is None:
            raise NotFound("No analysis with that id.")
        if not token_matches(analysis, token):
            raise Forbidden("That is not this result's delete token.")
        return analysis

    # --- reads ----------------------------------------------------------------------------
    async def find(self, code: str) -> GroupView | None:
        """The group of an invite code and its members, or None."""
        async with self.sessions() as session:
            group = await groups.get_group(session, code)
            if group is None:
                return None
            return GroupView(group, await groups.list_members(session, group.id))

    async def get(self, code: str) -> GroupOut:
        view = await self.find(code)
        if view is None:
            raise NotFound("No group with that code.", hint="Check the invite link.")
        return self.answer(view)

    def links(self, code: str) -> dict[str, str]:
        base = f"{self.settings.public_base_url.rstrip('/')}/g/{code}"
        return {
            "invite_url": base,
            "card_url": f"{base}/card.png",
            "story_url": f"{base}/story.png",
        }

    def photo_url(self, code: str, member: GroupMember) -> str | None:
        """The member's face crop, only when they opted in to sharing their photo."""
        if not member.analysis.share_opt_in:
            return None
        base = self.settings.public_base_url.rstrip("/")
        return f"{base}/g/{code}/members/{member.member_id}/photo.jpg"

    def answer(self, view: GroupView) -> GroupOut:
        group = view.group
        members = [
            MemberOut(
                member_id=member.member_id,
                nickname=member.nickname,
                type=member_type(member.analysis),
                score=member.analysis.score or 0,
                regions=member_regions(member.analysis),  # type: ignore[arg-type]
                rank=rank,
                owner=member.analysis_id == group.owner_analysis_id,
                joined_at=member.joined_at,
                photo_url=self.photo_url(group.code, member),
            )
            for member, rank in zip(view.members, view.ranks, strict=True)
        ]
        return GroupOut(
            code=group.code, closed=group.closed, members=members, **self.links(group.code)
        )
