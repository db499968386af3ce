"""Groups without a database: ranks, the nickname rule (as documented, exactly), the invite
page's tags and the group images at their edges. Plain ORM objects."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from PIL import Image

from db.models import Analysis, FaceType, Group, GroupMember
from gateway.errors import InvalidNickname
from gateway.groups.service import GroupView, new_code, ranks
from gateway.validation import NICKNAME_PATTERN, normalise_nickname
from gateway.web.group_card import render_group_card, render_group_story
from gateway.web.i18n import LANGS, Lang
from gateway.web.pages import group_client_page, group_content

EVIL = '<script>alert(1)</script> "J" &'
INDEX = "<html><head><title>AlphaMale</title></head><body></body></html>"


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], []),
        ([90], [1]),
        ([90, 70, 50], [1, 2, 3]),
        ([90, 70, 70, 50], [1, 2, 2, 4]),
        ([60, 60, 60], [1, 1, 1]),
    ],
)
def test_equal_scores_share_a_rank_and_the_next_skips(
    scores: list[int], expected: list[int]
) -> None:
    assert ranks(scores) == expected


def test_codes_are_16_url_safe_characters_and_never_repeat() -> None:
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16}", code) for code in codes)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("민수", "민수"),
        ("  Sam ", "Sam"),
        ("x" * 20, "x" * 20),
        ("😀", "😀"),
        (EVIL[:20], EVIL[:20]),
    ],
)
def test_nicknames_are_kept_as_written(given: str, kept: str) -> None:
    assert normalise_nickname(given) == kept
    assert re.fullmatch(NICKNAME_PATTERN, given)  # what the schema states


@pytest.mark.parametrize(
    "given",
    ["", " ", "\u3000\u3164", "x" * 21, "a\x00b", "a\tb", "a\u0085b", "a\u200db", "\u202eevil",
     "a\u2028b", "a\ud800", None, 12],
)  # fmt: skip
def test_nicknames_without_a_visible_character_or_with_controls_are_refused(given: object) -> None:
    with pytest.raises(InvalidNickname):
        normalise_nickname(given)
    if isinstance(given, str) and given and len(given) <= 20 and "\ud800" not in given:
        assert not re.fullmatch(NICKNAME_PATTERN, given)  # the schema says so too


def member(nickname: str, slug: str, score: int, owner: bool = False) -> GroupMember:
    face_type = FaceType(slug=slug, name=slug.capitalize(), description="", description_ko="")
    parts = {"face": {"type": slug, "points": 40}, "t_zone": {"type": "alpha"}, "jaw": {}}
    analysis = Analysis(id=f"id-{nickname}", face_type=face_type, score=score, regions=parts)
    joined = GroupMember(analysis_id=analysis.id, nickname=nickname, analysis=analysis)
    joined.joined_at = datetime(2026, 12, 2, tzinfo=UTC)
    return joined


def view(*members: GroupMember, closed: bool = False) -> GroupView:
    group = Group(code="c0de", owner_analysis_id=members[0].analysis_id if members else None)
    group.closed_at = datetime(2026, 12, 2, tzinfo=UTC) if closed else None
    return GroupView(group, members)


@pytest.mark.parametrize("lang", LANGS)
def test_the_invite_page_carries_the_groups_tags_as_text(lang: Lang) -> None:
    page = group_client_page(
        INDEX, view(member(EVIL, "beta", 60)), "https://x.example/g/c0de", lang
    )
    assert page.startswith("<html><head><title>AlphaMale</title>") and page.endswith("</html>")
    assert (
        "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &#34;J&#34; &amp;" in page
    )
    assert f'content="https://x.example/g/c0de/card.png?lang={lang}"' in page
    assert f'<link rel="canonical" href="https://x.example/g/c0de?lang={lang}">' in page


def png_size(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image.size


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("count", [0, 1, 5, 12])
def test_group_images_handle_any_number_of_members(lang: Lang, count: int) -> None:
    slugs = ("alpha", "beta", "gamma", "delta", "omega", "unknown")
    members = [member(f"{EVIL} {i}" * 3, slugs[i % 6], 90 - i) for i in range(count)]
    content = group_content(view(*members, closed=count == 12), lang, "alphamale.example")
    photo = Image.new("RGB", (300, 1200), (10, 20, 30))
    photos = [photo if i % 2 else None for i in range(count)]
    assert png_size(render_group_card(content, photos)) == (1200, 630)
    assert png_size(render_group_story(content, photos)) == (1080, 1920)
    if count == 12:
        assert content.closed and content.members[-1].rank == 12
