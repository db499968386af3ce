"""Compare with friends: the groups API, its pages and images, and the cascades that keep them
honest (a deleted or purged result leaves every group), on SQLite and PostgreSQL alike.

Results are stored as the pipeline leaves them (photo and row), each with a delete token the
test knows, so no model server is needed.
"""

from __future__ import annotations

import asyncio
import io
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy import text as sql

from db import groups as db_groups
from db.models import Analysis, Group, GroupMember
from gateway.analyses.deps import analysis_service
from gateway.cli import purge
from gateway.groups.schemas import MAX_MEMBERS
from gateway.web import group_router
from tests.fixtures.results import (
    BASE,
    Groups,
    Result,
    add_result,
    assert_problem,
    body,
    results_app,
)
from tests.fixtures.spies import counted
from tests.integration.test_web import meta_tags

EVIL = "<b>x</b>\"'&"  # markup in a nickname: text everywhere


async def start(groups: Groups, owner: Result, nickname: str = "Owner") -> str:
    response = await groups.client.post("/v1/groups", json=body(owner, nickname))
    assert response.status_code == 201, response.text
    return response.json()["code"]


async def join(groups: Groups, code: str, result: Result, nickname: str) -> httpx.Response:
    return await groups.client.post(f"/v1/groups/{code}/members", json=body(result, nickname))


async def member_id(groups: Groups, code: str, nickname: str) -> str:
    """The public id of the group's member with that nickname."""
    members = (await groups.client.get(f"/v1/groups/{code}")).json()["members"]
    return next(m["member_id"] for m in members if m["nickname"] == nickname)


def leave_path(code: str, member: str) -> str:
    return f"/v1/groups/{code}/members/{member}"


# --- the API -------------------------------------------------------------------------------


async def test_a_result_starts_a_group_and_friends_join_it_ranked_by_score(groups: Groups) -> None:
    owner = await add_result(groups.context, "beta", 70)
    created = await groups.client.post("/v1/groups", json=body(owner, "  민수  "))

    assert created.status_code == 201, created.text
    group = created.json()
    code = group["code"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", code)  # 96 random bits, URL-safe
    assert created.headers["location"] == f"/v1/groups/{code}"
    assert group["invite_url"] == f"{BASE}/g/{code}"
    assert group["card_url"] == f"{BASE}/g/{code}/card.png"
    assert group["story_url"] == f"{BASE}/g/{code}/story.png"
    assert (group["closed"], group["max_members"]) == (False, MAX_MEMBERS)
    [first] = group["members"]
    assert first["nickname"] == "민수" and first["owner"] and first["rank"] == 1
    assert first["member_id"] == group["member_id"] and first["score"] == 70
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", first["member_id"]) and "analysis_id" not in first
    assert first["type"] == {"slug": "beta", "name": "Beta", "name_ko": "베타", "colour": "#3a86ff"}
    assert first["regions"]["t_zone"] == {
        "type": "alpha", "points": 40, "strength": "clear", "colour": "#06d6a0"
    }  # fmt: skip
    assert first["photo_url"] is None  # not opted in

    friends = [
        (await add_result(groups.context, "alpha", 90, opt_in=True), "Top"),
        (await add_result(groups.context, "gamma", 50), "Low"),
        (await add_result(groups.context, "beta", 70), "Tie"),
    ]
    for friend, nickname in friends:
        joined = await join(groups, code, friend, nickname)
        assert joined.status_code == 201, joined.text
        assert joined.json()["nickname"] == nickname and not joined.json()["owner"]

    listed = (await groups.client.get(f"/v1/groups/{code}")).json()
    members = listed["members"]
    assert [(m["nickname"], m["score"], m["rank"]) for m in members] == [
        ("Top", 90, 1),
        ("민수", 70, 2),  # equal scores: who joined first comes first, and they share a rank
        ("Tie", 70, 2),
        ("Low", 50, 4),
    ]
    top = members[0]
    assert top["photo_url"] == f"{BASE}/g/{code}/members/{top['member_id']}/photo.jpg"
    assert listed["member_id"] is None  # only the answer that started it names yours
    assert [m["photo_url"] for m in members[1:]] == [None, None, None]
    assert set(listed) >= {"code", "closed", "members"}


async def test_every_write_needs_the_results_own_token(groups: Groups) -> None:
    owner = await add_result(groups.context)
    friend = await add_result(groups.context)
    wrong = secrets.token_urlsafe(24)
    assert_problem(
        await groups.client.post("/v1/groups", json=body(owner, token=wrong)), 403, "forbidden"
    )
    assert await groups.count(Group) == 0
    code = await start(groups, owner)
    joined = await groups.client.post(f"/v1/groups/{code}/members", json=body(friend, token=wrong))
    assert_problem(joined, 403, "forbidden")
    assert_problem(
        await groups.client.post(
            f"/v1/groups/{code}/members", json=body(friend, token=owner.token)
        ),
        403,
        "forbidden",
    )
    joined = await join(groups, code, friend, "Friend")
    assert joined.status_code == 201
    leave = leave_path(code, joined.json()["member_id"])
    for token in (wrong, owner.token):  # not even the owner removes someone else
        response = await groups.client.delete(leave, headers={"X-Delete-Token": token})
        assert_problem(response, 403, "forbidden")
    close = await groups.client.delete(
        f"/v1/groups/{code}", headers={"X-Delete-Token": friend.token}
    )
    assert_problem(close, 403, "forbidden")  # only the owner closes it
    missing = await groups.client.delete(f"/v1/groups/{code}")
    assert_problem(missing, 422, "invalid_request")
    assert await groups.count(GroupMember) == 2


async def test_unknown_codes_and_results_are_404_like_any_miss(groups: Groups) -> None:
    owner = await add_result(groups.context)
    code = await start(groups, owner)
    stranger = await add_result(groups.context)
    unknown = secrets.token_urlsafe(12)
    token = {"X-Delete-Token": owner.token}
    gone = Result("00000000-0000-4000-8000-000000000000", owner.token)
    mine = await member_id(groups, code, "Owner")
    nobody = secrets.token_urlsafe(12)
    for response in (
        await groups.client.get(f"/v1/groups/{unknown}"),
        await groups.client.post(f"/v1/groups/{unknown}/members", json=body(owner)),
        await groups.client.delete(f"/v1/groups/{unknown}", headers=token),
        await groups.client.post(f"/v1/groups/{unknown}/rotate", headers=token),
        await groups.client.delete(leave_path(unknown, mine), headers=token),
        await groups.client.delete(leave_path(code, nobody), headers=token),
        await groups.client.delete(
            leave_path(code, nobody), headers={"X-Delete-Token": stranger.token}
        ),
        await groups.client.post("/v1/groups", json=body(gone)),
        await groups.client.post(f"/v1/groups/{code}/members", json=body(gone)),
    ):
        assert_problem(response, 404, "not_found")


async def test_joining_twice_is_one_member(groups: Groups) -> None:
    owner = await add_result(groups.context)
    friend = await add_result(groups.context)
    code = await start(groups, owner)
    first = await join(groups, code, friend, "Once")
    again = await join(groups, code, friend, "Twice")
    owner_again = await join(groups, code, owner, "Owner again")
    assert first.status_code == 201
    assert again.status_code == 200 and again.json()["nickname"] == "Once"
    assert owner_again.status_code == 200 and owner_again.json()["owner"]
    racing = await asyncio.gather(*(join(groups, code, r, "Racer") for r in [friend] * 3))
    assert {r.status_code for r in racing} == {200}
    assert len((await groups.client.get(f"/v1/groups/{code}")).json()["members"]) == 2


async def test_a_group_holds_at_most_50_members(groups: Groups) -> None:
    owner = await add_result(groups.context)
    code = await start(groups, owner)
    for index in range(MAX_MEMBERS - 1):
        friend = await add_result(groups.context, score=index)
        assert (await join(groups, code, friend, f"Friend {index}")).status_code == 201
    late = await add_result(groups.context)
    full = await join(groups, code, late, "Late")
    assert_problem(full, 409, "group_full")
    assert full.json()["max_members"] == MAX_MEMBERS
    assert len((await groups.client.get(f"/v1/groups/{code}")).json()["members"]) == MAX_MEMBERS


async def lock_waiters(groups: Groups) -> int:
    """Transactions of this database waiting for a lock (PostgreSQL; SQLite's writers take
    theirs later, at their first write)."""
    if groups.context.engine.dialect.name != "postgresql":
        return 0
    query = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with groups.context.engine.connect() as connection:
        return int((await connection.execute(sql(query))).scalar_one())


async def test_five_joining_a_group_of_49_at_once_let_exactly_one_in(
    groups: Groups, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last place, five at once: one 201, four 409 ``group_full``, never 51 members.

    Each join is held until all five have got to the same step or wait for a lock, so the joins
    race for real on every machine: on PostgreSQL once it has counted the members, before it
    commits (without the group's row lock, five count 50 and commit); on SQLite once it has
    read, before its first write (a writer holds the database until it commits), so a join that
    counts before its own insert lets several in."""
    owner = await add_result(groups.context)
    code = await start(groups, owner)
    for index in range(MAX_MEMBERS - 2):
        friend = await add_result(groups.context, score=index)
        assert (await join(groups, code, friend, f"Friend {index}")).status_code == 201
    assert await groups.count(GroupMember) == MAX_MEMBERS - 1
    late = [await add_result(groups.context) for _ in range(5)]

    postgres = groups.context.engine.dialect.name == "postgresql"
    step = "count_members" if postgres else "get_membership"
    arrived, all_there = 0, asyncio.Event()
    unheld = getattr(db_groups, step)

    async def held(*args: Any, **kwargs: Any) -> Any:
        nonlocal arrived
        done = await unheld(*args, **kwargs)
        arrived += 1
        await all_there.wait()
        return done

    async def release_when_all_there() -> None:
        for _ in range(1200):  # 60 s: a hang is a failure, not a stuck run
            if arrived + await lock_waiters(groups) >= len(late):
                all_there.set()
                return
            await asyncio.sleep(0.05)
        all_there.set()
        raise AssertionError(f"{arrived} joins got to {step}, the others never waited")

    with monkeypatch.context() as patched:
        patched.setattr(db_groups, step, held)
        answers, _ = await asyncio.gather(
            asyncio.gather(*(join(groups, code, r, f"Late {i}") for i, r in enumerate(late))),
            release_when_all_there(),
        )

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409, 409, 409], [a.text[:80] for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert_problem(answer, 409, "group_full")
    assert len((await groups.client.get(f"/v1/groups/{code}")).json()["members"]) == MAX_MEMBERS
    assert await groups.count(GroupMember) == MAX_MEMBERS


async def test_the_owner_closes_the_group_to_new_members(groups: Groups) -> None:
    owner = await add_result(groups.context)
    friend = await add_result(groups.context)
    code = await start(groups, owner)
    assert (await join(groups, code, friend, "Friend")).status_code == 201
    token = {"X-Delete-Token": owner.token}
    assert (await groups.client.delete(f"/v1/groups/{code}", headers=token)).status_code == 204
    assert (await groups.client.delete(f"/v1/groups/{code}", headers=token)).status_code == 204

    late = await add_result(groups.context)
    assert_problem(await join(groups, code, late, "Late"), 410, "group_closed")
    closed = (await groups.client.get(f"/v1/groups/{code}")).json()
    assert closed["closed"] and len(closed["members"]) == 2  # still there, to look at


async def test_members_leave_the_owner_leaving_closes_it_and_the_last_removes_it(
    groups: Groups,
) -> None:
    owner = await add_result(groups.context)
    friends = [await add_result(groups.context) for _ in range(2)]
    code = await start(groups, owner)
    for index, friend in enumerate(friends):
        await join(groups, code, friend, f"Friend {index}")

    ids = {
        result.id: await member_id(groups, code, name)
        for result, name in zip([owner, *friends], ["Owner", "Friend 0", "Friend 1"], strict=True)
    }

    async def leave(result: Result) -> int:
        path = leave_path(code, ids[result.id])
        return (
            await groups.client.delete(path, headers={"X-Delete-Token": result.token})
        ).status_code

    assert await leave(friends[0]) == 204
    group = (await groups.client.get(f"/v1/groups/{code}")).json()
    assert [m["nickname"] for m in group["members"]] == ["Owner", "Friend 1"]
    assert not group["closed"]
    assert await leave(friends[0]) == 404  # not a member any more
    assert await leave(owner) == 204
    group = (await groups.client.get(f"/v1/groups/{code}")).json()
    assert group["closed"] and [m["nickname"] for m in group["members"]] == ["Friend 1"]
    assert await leave(friends[1]) == 204
    assert_problem(await groups.client.get(f"/v1/groups/{code}"), 404, "not_found")
    assert await groups.count(Group) == 0


@pytest.mark.parametrize(
    "nickname",
    ["", "   ", "x" * 21, "a\nb", "tab\there", "bidi\u202eevil", "zero\u200bwidth", "\u3164", 7],
)
async def test_nicknames_are_1_to_20_visible_characters(groups: Groups, nickname: object) -> None:
    owner = await add_result(groups.context)
    response = await groups.client.post("/v1/groups", json=body(owner, nickname))  # type: ignore[arg-type]
    if isinstance(nickname, str):
        assert_problem(response, 422, "invalid_nickname")
    else:
        assert_problem(response, 422, "invalid_request")
    assert await groups.count(Group) == 0


async def test_bad_bodies_are_invalid_requests(groups: Groups) -> None:
    owner = await add_result(groups.context)
    for bad in (
        {},
        body(owner) | {"extra": 1},
        body(owner) | {"analysis_id": "../../etc"},
        body(owner) | {"delete_token": "not a token"},
        {"analysis_id": owner.id, "nickname": "No token"},
    ):
        assert_problem(await groups.client.post("/v1/groups", json=bad), 422, "invalid_request")
    response = await groups.client.post(
        "/v1/groups", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "invalid_request")


async def test_emoji_and_hangul_nicknames_are_kept(groups: Groups) -> None:
    owner = await add_result(groups.context)
    response = await groups.client.post("/v1/groups", json=body(owner, "지민😀 ✨" + "가" * 14))
    assert response.status_code == 201, response.text
    assert response.json()["members"][0]["nickname"] == "지민😀 ✨" + "가" * 14


async def test_an_invite_holder_learns_no_members_result_or_what_they_told_us(
    groups: Groups,
) -> None:
    """The bug this holds: a member's analysis id in the group let any invite holder read
    their MBTI through GET /v1/analyses/{id}. Nothing public names a result or its answers."""
    owner = await add_result(groups.context, opt_in=True)
    friend = await add_result(groups.context)
    code = await start(groups, owner)
    await join(groups, code, friend, "Friend")
    public = [
        (await groups.client.get(f"/v1/groups/{code}")).text,
        (await groups.client.get(f"/g/{code}")).text,
        (await groups.client.get(f"/g/{code}", headers={"Accept-Language": "ko"})).text,
    ]
    for text in public:
        for secret in (owner.id, friend.id, "ENFP", "1995-04", owner.token, friend.token):
            assert secret not in text
    for member in json_members(public[0]):
        assert set(member) == {
            "member_id",
            "nickname",
            "type",
            "score",
            "regions",
            "rank",
            "owner",
            "joined_at",
            "photo_url",
        }


def json_members(text: str) -> list[dict]:
    import json

    return json.loads(text)["members"]


async def test_the_owner_rotates_the_invite_and_the_old_link_finds_nothing(
    groups: Groups,
) -> None:
    owner, friend, late = [await add_result(groups.context) for _ in range(3)]
    old = await start(groups, owner)
    await join(groups, old, friend, "Friend")
    mine = await member_id(groups, old, "Owner")
    refused = await groups.client.post(
        f"/v1/groups/{old}/rotate", headers={"X-Delete-Token": friend.token}
    )
    assert_problem(refused, 403, "forbidden")  # only the owner

    rotated = await groups.client.post(
        f"/v1/groups/{old}/rotate", headers={"X-Delete-Token": owner.token}
    )

    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["code"]
    assert new != old and rotated.json()["invite_url"] == f"{BASE}/g/{new}"
    assert rotated.json()["member_id"] == mine  # the members and their ids stay
    assert [m["nickname"] for m in rotated.json()["members"]] == ["Owner", "Friend"]
    for response in (
        await groups.client.get(f"/v1/groups/{old}"),
        await join(groups, old, late, "Late"),
        await groups.client.get(f"/g/{old}/card.png"),
    ):
        assert_problem(response, 404, "not_found")
    assert (await groups.client.get(f"/g/{old}")).status_code == 404
    assert (await join(groups, new, late, "Late")).status_code == 201
    closed = await groups.client.delete(
        f"/v1/groups/{new}", headers={"X-Delete-Token": owner.token}
    )
    assert closed.status_code == 204
    again = await groups.client.post(
        f"/v1/groups/{new}/rotate", headers={"X-Delete-Token": owner.token}
    )
    assert_problem(again, 410, "group_closed")


# --- deletion and retention ------------------------------------------------------------------


async def test_deleting_a_result_removes_it_from_every_group(groups: Groups) -> None:
    owner, other_owner, friend = [await add_result(groups.context) for _ in range(3)]
    code = await start(groups, owner)
    other = await start(groups, other_owner, "Other")
    for group in (code, other):
        assert (await join(groups, group, friend, "Friend")).status_code == 201

    deleted = await groups.client.delete(
        f"/v1/analyses/{friend.id}", headers={"X-Delete-Token": friend.token}
    )
    assert deleted.status_code == 204
    for group in (code, other):
        listed = (await groups.client.get(f"/v1/groups/{group}")).json()
        assert "Friend" not in {m["nickname"] for m in listed["members"]}
        assert not listed["closed"]

    await groups.client.delete(f"/v1/analyses/{owner.id}", headers={"X-Delete-Token": owner.token})
    assert_problem(await groups.client.get(f"/v1/groups/{code}"), 404, "not_found")  # empty
    assert await groups.count(GroupMember) == 1  # the other group's owner alone


async def test_a_delete_whose_photo_cannot_be_removed_keeps_every_membership(
    groups: Groups,
) -> None:
    """The storage fails to remove the photo (a directory where its file was: unlink fails):
    the delete is 503, and the result is still there, in its groups, the one it owns open."""
    owner, other_owner = await add_result(groups.context), await add_result(groups.context)
    code = await start(groups, owner)
    other = await start(groups, other_owner, "Other")
    assert (await join(groups, other, owner, "Owner")).status_code == 201
    before = {c: (await groups.client.get(f"/v1/groups/{c}")).json() for c in (code, other)}
    async with groups.context.sessions() as session:
        analysis = await session.get(Analysis, owner.id)
        assert analysis is not None
        [key] = analysis.object_keys
    root = groups.context.settings.storage_dir
    assert root is not None and (root / key).is_file()
    (root / key).unlink()
    (root / key / "in-the-way").mkdir(parents=True)  # the object's path cannot be unlinked

    deleted = await groups.client.delete(
        f"/v1/analyses/{owner.id}", headers={"X-Delete-Token": owner.token}
    )

    assert_problem(deleted, 503, "storage_unavailable")
    for group in (code, other):
        after = (await groups.client.get(f"/v1/groups/{group}")).json()
        assert after == before[group] and not after["closed"]
    assert (await groups.count(Group), await groups.count(GroupMember)) == (2, 3)
    assert (await groups.client.get(f"/v1/analyses/{owner.id}")).status_code == 200


async def test_deleting_the_owners_result_closes_the_group(groups: Groups) -> None:
    owner, friend = await add_result(groups.context), await add_result(groups.context)
    code = await start(groups, owner)
    await join(groups, code, friend, "Friend")
    await groups.client.delete(f"/v1/analyses/{owner.id}", headers={"X-Delete-Token": owner.token})
    group = (await groups.client.get(f"/v1/groups/{code}")).json()
    assert group["closed"] and [m["nickname"] for m in group["members"]] == ["Friend"]
    late = await add_result(groups.context)
    assert_problem(await join(groups, code, late, "Late"), 410, "group_closed")
    close = await groups.client.delete(
        f"/v1/groups/{code}", headers={"X-Delete-Token": owner.token}
    )
    assert_problem(close, 403, "forbidden")  # nobody owns it now


async def test_the_purge_removes_groups_and_memberships_with_their_results(groups: Groups) -> None:
    old_owner = await add_result(groups.context, age_days=40)
    old_friend = await add_result(groups.context, age_days=35)
    recent = await add_result(groups.context)
    gone = await start(groups, old_owner)  # every member is old: the group goes
    await join(groups, gone, old_friend, "Old")
    kept = await start(groups, recent, "Recent")  # the recent owner keeps it, open
    await join(groups, kept, old_friend, "Old")
    closing = await start(groups, old_owner, "Old owner")  # its owner goes: it closes
    await join(groups, closing, recent, "Recent")

    report = await purge.purge(groups.context, purge.Retention(30, 1, 30))

    assert report.deleted == 2 and report.failures == []
    assert (report.groups_emptied, report.idle_groups_deleted) == (1, 0)
    assert_problem(await groups.client.get(f"/v1/groups/{gone}"), 404, "not_found")
    still = (await groups.client.get(f"/v1/groups/{kept}")).json()
    assert [m["nickname"] for m in still["members"]] == ["Recent"] and not still["closed"]
    closed = (await groups.client.get(f"/v1/groups/{closing}")).json()
    assert closed["closed"] and [m["nickname"] for m in closed["members"]] == ["Recent"]
    assert (await groups.count(Group), await groups.count(GroupMember)) == (2, 2)


async def test_the_purge_removes_groups_nobody_touched_for_the_retention_period(
    groups: Groups,
) -> None:
    """Members' results have their own retention; a group idle for its period goes with its
    memberships (its members' results stay), an active one stays."""
    owner, friend, other = [await add_result(groups.context) for _ in range(3)]
    idle = await start(groups, owner)
    await join(groups, idle, friend, "Friend")
    active = await start(groups, other, "Active")
    async with groups.context.sessions.begin() as session:
        group = await session.scalar(select(Group).where(Group.code == idle))
        assert group is not None
        group.active_at = datetime.now(UTC) - timedelta(days=31)
        old = await session.scalar(select(Group).where(Group.code == active))
        assert old is not None
        old.active_at = datetime.now(UTC) - timedelta(days=31)
    await join(groups, active, friend, "Friend")  # a join makes it active again

    dry = await purge.purge(groups.context, purge.Retention(30, 1, 30), dry_run=True)
    assert (dry.idle_groups_matched, await groups.count(Group)) == (1, 2)
    report = await purge.purge(groups.context, purge.Retention(30, 1, 30))

    assert report.idle_groups_deleted == 1 and report.deleted == 0
    assert_problem(await groups.client.get(f"/v1/groups/{idle}"), 404, "not_found")
    assert len((await groups.client.get(f"/v1/groups/{active}")).json()["members"]) == 2
    assert (await groups.count(Analysis), await groups.count(GroupMember)) == (3, 2)


# --- the invite page, images and faces -------------------------------------------------------


async def test_the_invite_link_is_the_client_with_the_groups_preview_tags(groups: Groups) -> None:
    owner = await add_result(groups.context)
    code = await start(groups, owner, EVIL)
    home = (await groups.client.get("/")).text

    english = await groups.client.get(f"/g/{code}")
    korean = await groups.client.get(f"/g/{code}", headers={"Accept-Language": "ko-KR"})

    assert english.status_code == 200 and english.headers["content-type"].startswith("text/html")
    assert english.headers["content-security-policy"].startswith("default-src 'self'")
    page = english.text
    assert (
        page.replace(page[page.index('<meta property="og:type"') : page.index("</head>")], "")
        == home
    )
    tags = meta_tags(page)
    assert tags["og:title"] == f"Compare face types with {EVIL}"
    assert tags["og:image"] == f"{BASE}/g/{code}/card.png?lang=en"
    assert tags["og:url"] == f"{BASE}/g/{code}?lang=en"
    assert tags["twitter:card"] == "summary_large_image" and tags["og:description"]
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;&#34;&#39;&amp;" in page
    assert meta_tags(korean.text)["og:title"] == f"{EVIL}님과 얼굴 유형 비교하기"
    assert korean.headers["content-language"] == "ko"
    assert (await groups.client.head(f"/g/{code}")).status_code == 200

    missing = await groups.client.get(f"/g/{secrets.token_urlsafe(12)}")
    assert missing.status_code == 404 and missing.text == home


def decode(data: bytes, kind: str = "PNG") -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == kind
    return image


async def test_the_group_card_and_story_are_pngs_in_both_languages(groups: Groups) -> None:
    owner = await add_result(groups.context, "alpha", 90, opt_in=True)
    code = await start(groups, owner, EVIL)
    for index in range(11):  # more than either image has rows for
        friend = await add_result(groups.context, "delta", 30 + index, opt_in=index % 2 == 0)
        await join(groups, code, friend, f"친구 {index}")
    for name, size in (("card.png", (1200, 630)), ("story.png", (1080, 1920))):
        english = await groups.client.get(f"/g/{code}/{name}?lang=en")
        korean = await groups.client.get(f"/g/{code}/{name}", headers={"Accept-Language": "ko"})
        assert english.status_code == korean.status_code == 200
        assert english.headers["content-type"] == "image/png"
        assert decode(english.content).size == decode(korean.content).size == size
        assert english.headers["cache-control"] == "private, max-age=300"
        assert english.headers["content-language"] == "en"
        assert korean.content != english.content or korean.headers["content-language"] == "en"
    missing = await groups.client.get(f"/g/{secrets.token_urlsafe(12)}/card.png")
    assert_problem(missing, 404, "not_found")


@pytest.mark.parametrize("image", ["card.png", "story.png"])
async def test_a_group_image_is_drawn_once_per_version(
    groups: Groups, monkeypatch: pytest.MonkeyPatch, image: str
) -> None:
    """The bug this holds: every view of an image fetched up to ten photos and drew it anew.
    The same group looks the same: one render, then the cache or a 304; a join is a new
    version, and so is another language."""
    drawn = counted(monkeypatch, group_router, "draw_group")
    owner = await add_result(groups.context, opt_in=True)
    code = await start(groups, owner)
    path = f"/g/{code}/{image}?lang=en"

    first = await groups.client.get(path)
    again = await groups.client.get(path)
    etag = first.headers["etag"]
    revalidated = await groups.client.get(path, headers={"If-None-Match": f'W/{etag}, "x"'})

    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert again.headers["etag"] == etag and len(drawn) == 1
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated.headers["etag"] == etag and len(drawn) == 1
    korean = await groups.client.get(f"/g/{code}/{image}?lang=ko")
    assert korean.headers["etag"] != etag and len(drawn) == 2
    await join(groups, code, await add_result(groups.context), "Friend")
    changed = await groups.client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag and len(drawn) == 3


async def test_renders_spend_from_the_clients_rate_and_views_do_not(
    tmp_path: Path, database_url: str
) -> None:
    async with results_app(tmp_path, database_url, rate_limit_quota=2) as limited:
        owners = [await add_result(limited.context, score=50 + i) for i in range(3)]
        codes = [await start_without_rate(limited, owner) for owner in owners]
        drawn = [await limited.client.get(f"/g/{code}/card.png") for code in codes[:2]]
        assert [r.status_code for r in drawn] == [200, 200]
        refused = await limited.client.get(f"/g/{codes[2]}/card.png")
        assert_problem(refused, 429, "rate_limited")
        assert int(refused.headers["Retry-After"]) >= 1
        cached = await limited.client.get(f"/g/{codes[0]}/card.png")  # drawn: free to view
        assert cached.status_code == 200 and cached.content == drawn[0].content


async def start_without_rate(groups: Groups, owner: Result) -> str:
    """A group started in the database (the API's start would spend from the rate too)."""
    async with groups.context.sessions.begin() as session:
        group = Group(code=secrets.token_urlsafe(12), owner_analysis_id=owner.id)
        session.add(group)
        await session.flush()
        session.add(GroupMember(group_id=group.id, analysis_id=owner.id, nickname="Owner"))
    return group.code


async def test_a_face_is_shared_only_with_its_owners_opt_in(groups: Groups) -> None:
    shared = await add_result(groups.context, opt_in=True)
    private = await add_result(groups.context)
    code = await start(groups, shared)
    await join(groups, code, private, "Private")
    outsider = await add_result(groups.context, opt_in=True)

    shared_id = await member_id(groups, code, "Owner")
    other = await start(groups, outsider, "Outsider")  # opted in, in another group
    outsider_id = await member_id(groups, other, "Outsider")
    face = await groups.client.get(f"/g/{code}/members/{shared_id}/photo.jpg")
    assert face.status_code == 200 and face.headers["content-type"] == "image/jpeg"
    assert decode(face.content, "JPEG").size == (240, 275)
    for path in (
        f"/g/{code}/members/{await member_id(groups, code, 'Private')}/photo.jpg",  # no opt-in
        f"/g/{code}/members/{outsider_id}/photo.jpg",  # opted in, but not a member here
        f"/g/{code}/members/{shared.id}/photo.jpg",  # a result's id is no member's id
        f"/g/{secrets.token_urlsafe(12)}/members/{shared_id}/photo.jpg",
    ):
        assert_problem(await groups.client.get(path), 404, "not_found")
    members = (await groups.client.get(f"/v1/groups/{code}")).json()["members"]
    stored = await analysis_service(groups.context).find(shared.id)
    assert stored is not None
    page = (await groups.client.get(f"/g/{code}")).text
    assert stored.object_key not in str(members) and stored.object_key not in page
