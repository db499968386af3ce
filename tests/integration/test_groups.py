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
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from db import repositories
from db.models import Analysis, Group, GroupMember
from db.seed import seed_types
from gateway import purge
from gateway.analyses.service import token_hash
from gateway.clients.storage import new_key
from gateway.config import Settings
from gateway.context import AppContext
from gateway.groups.schemas import MAX_MEMBERS
from gateway.main import create_app
from tests.integration.test_web import meta_tags

BASE = "https://alphamale.example"
PROBLEM = "application/problem+json"
EVIL = "<b>x</b>\"'&"  # markup in a nickname: text everywhere


@dataclass(frozen=True)
class Result:
    id: str
    token: str


@dataclass
class Groups:
    context: AppContext
    client: httpx.AsyncClient

    async def count(self, model: type) -> int:
        async with self.context.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def photo_png() -> bytes:
    image = Image.new("RGB", (600, 800), (90, 140, 170))
    ImageDraw.Draw(image).ellipse((150, 180, 450, 620), fill=(230, 190, 160))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def regions(face: str, t_zone: str, jaw: str, points: tuple[int, int, int]) -> dict:
    boxes = {
        "face": (150, 180, 450, 620),
        "t_zone": (220, 300, 380, 460),
        "jaw": (180, 470, 420, 620),
    }
    out = {}
    for (part, (x1, y1, x2, y2)), slug, value in zip(
        boxes.items(), (face, t_zone, jaw), points, strict=True
    ):
        polygon = [[x1, y1], [x2, y1], [x2, y2], [x1, y2]]
        out[part] = {
            "found": True,
            "type": slug,
            "points": value,
            "strength": "clear",
            "polygon": polygon,
        }
    return out


async def add_result(
    context: AppContext,
    slug: str = "beta",
    score: int = 60,
    *,
    opt_in: bool = False,
    age_days: float = 0,
) -> Result:
    """A stored result (photo and row) and the delete token its creation answer gave."""
    token = secrets.token_urlsafe(24)
    key = new_key("uploads", "png")
    await context.storage.put(key, photo_png(), "image/png")
    async with context.sessions() as session:
        face_type = await repositories.get_type(session, slug)
        assert face_type is not None
        row = Analysis(
            created_at=datetime.now(UTC) - timedelta(days=age_days),
            object_key=key,
            image_sha256="0" * 64,
            mbti="ENFP",
            birth_date=date(1995, 4, 17),
            outcome=slug,
            type_id=face_type.id,
            score=score,
            regions=regions(slug, "alpha", "gamma", (40, 40, 6)),
            model_name="face_type",
            model_version="1.0",
            delete_token_hash=token_hash(token),
            share_opt_in=opt_in,
        )
        session.add(row)
        await session.commit()
    return Result(row.id, token)


def body(result: Result, nickname: str = "Sam", token: str | None = None) -> dict:
    return {"analysis_id": result.id, "delete_token": token or result.token, "nickname": nickname}


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["code"] == code and response.json()["hint"]


@pytest.fixture
async def groups(tmp_path: Path, database_url: str) -> AsyncIterator[Groups]:
    settings = Settings(
        var_dir=tmp_path,
        database_url=database_url,
        public_base_url=BASE + "/",
        rate_limit_quota=0,  # joins count against it: tests/unit/gateway/test_overload.py
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        context: AppContext = app.state.context
        async with context.sessions() as session:
            await seed_types(session)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Groups(context, client)


async def start(groups: Groups, owner: Result, nickname: str = "Owner") -> str:
    response = await groups.client.post("/v1/groups", json=body(owner, nickname))
    assert response.status_code == 201, response.text
    return response.json()["code"]


async def join(groups: Groups, code: str, result: Result, nickname: str) -> httpx.Response:
    return await groups.client.post(f"/v1/groups/{code}/members", json=body(result, nickname))


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
    assert first["analysis_id"] == owner.id and first["score"] == 70
    assert first["type"] == {"slug": "beta", "name": "Beta", "name_ko": "베타", "colour": "#3a86ff"}
    assert first["regions"]["t_zone"] == {"type": "alpha", "points": 40, "strength": "clear"}
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
    assert top["photo_url"] == f"{BASE}/g/{code}/members/{friends[0][0].id}/photo.jpg"
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
    assert (await join(groups, code, friend, "Friend")).status_code == 201
    leave = f"/v1/groups/{code}/members/{friend.id}"
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
    for response in (
        await groups.client.get(f"/v1/groups/{unknown}"),
        await groups.client.post(f"/v1/groups/{unknown}/members", json=body(owner)),
        await groups.client.delete(f"/v1/groups/{unknown}", headers=token),
        await groups.client.delete(f"/v1/groups/{unknown}/members/{owner.id}", headers=token),
        await groups.client.delete(f"/v1/groups/{code}/members/{stranger.id}", headers=token),
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

    async def leave(result: Result) -> int:
        path = f"/v1/groups/{code}/members/{result.id}"
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
        assert friend.id not in {m["analysis_id"] for m in listed["members"]}
        assert not listed["closed"]

    await groups.client.delete(f"/v1/analyses/{owner.id}", headers={"X-Delete-Token": owner.token})
    assert_problem(await groups.client.get(f"/v1/groups/{code}"), 404, "not_found")  # empty
    assert await groups.count(GroupMember) == 1  # the other group's owner alone


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

    report = await purge.purge(groups.context, 30)

    assert report.deleted == 2 and report.failures == []
    assert_problem(await groups.client.get(f"/v1/groups/{gone}"), 404, "not_found")
    still = (await groups.client.get(f"/v1/groups/{kept}")).json()
    assert [m["nickname"] for m in still["members"]] == ["Recent"] and not still["closed"]
    closed = (await groups.client.get(f"/v1/groups/{closing}")).json()
    assert closed["closed"] and [m["nickname"] for m in closed["members"]] == ["Recent"]
    assert (await groups.count(Group), await groups.count(GroupMember)) == (2, 2)


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


async def test_a_face_is_shared_only_with_its_owners_opt_in(groups: Groups) -> None:
    shared = await add_result(groups.context, opt_in=True)
    private = await add_result(groups.context)
    code = await start(groups, shared)
    await join(groups, code, private, "Private")
    outsider = await add_result(groups.context, opt_in=True)

    face = await groups.client.get(f"/g/{code}/members/{shared.id}/photo.jpg")
    assert face.status_code == 200 and face.headers["content-type"] == "image/jpeg"
    assert decode(face.content, "JPEG").size == (240, 275)
    for path in (
        f"/g/{code}/members/{private.id}/photo.jpg",  # not opted in
        f"/g/{code}/members/{outsider.id}/photo.jpg",  # opted in, but not a member
        f"/g/{secrets.token_urlsafe(12)}/members/{shared.id}/photo.jpg",
    ):
        assert_problem(await groups.client.get(path), 404, "not_found")
    members = (await groups.client.get(f"/v1/groups/{code}")).json()["members"]
    stored = await groups.context.analysis_service().find(shared.id)
    assert stored is not None
    page = (await groups.client.get(f"/g/{code}")).text
    assert stored.object_key not in str(members) and stored.object_key not in page
