"""Compare with friends, as two people do it on two phones: one (English) starts a group from
their result and shares the invite; a friend (Korean, another browser context, another photo)
opens it, takes the test, joins with one tap, and both see the two of them ranked by score;
"you vs X" region by region; the friend leaves, joins again with the result they already have,
then deletes it and disappears from the group. Screenshots of each step under var/screenshots/.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.support import SCREENSHOTS, allow_errors, shot
from tests.browser.test_client import (
    RESULT_URL,
    analyse,
    choose_photo,
    fill_form,
    press_analyse,
)

GROUP_URL = re.compile(r"/g/[A-Za-z0-9_-]{16}$")
VERSUS_URL = re.compile(r"/g/[A-Za-z0-9_-]{16}\?vs=[A-Za-z0-9_-]{16}$")  # a member id
NOTE_EN = re.compile(
    r"^(Face|T‑zone|Jaw): (the same type, \w+|you scored \d+ more|.+ scored \d+ more)"
)
NOTE_KO = re.compile(
    r"^(얼굴|T존|턱): (둘 다 .+ 유형이에요|내가 \d+점 더 높아요|.+님이 \d+점 더 높아요)"
)


def ranked(page: Page, code: str) -> list[dict]:
    """The members as the API orders them (by score, then who joined first)."""
    members = page.request.get(f"/v1/groups/{code}").json()["members"]
    scores = [m["score"] for m in members]
    assert scores == sorted(scores, reverse=True), scores
    return members


def start_group(owner: Page, photo: Path, nickname: str) -> str:
    """From a fresh result to its new group's view; the group's code."""
    analyse(owner, photo)
    expect(owner.locator("#result-groups")).to_be_visible()
    owner.locator("#start-nickname").fill(nickname)
    owner.click("#start-group")
    expect(owner).to_have_url(GROUP_URL)
    return owner.url.rsplit("/", 1)[-1]


def test_friends_compare_their_results_in_a_group(
    phone: Page, korean_phone: Page, face_photo: Path, friend_photo: Path
) -> None:
    owner, friend = phone, korean_phone
    code = start_group(owner, face_photo, "Sam")
    expect(owner.locator("#group-title")).to_have_text("Sam's group")
    expect(owner.locator("#group-members .member")).to_have_count(1)
    expect(owner.locator(".member.you .nickname")).to_have_text("Sam")
    expect(owner.locator(".member.you .badge")).to_have_text(["you", "host"])
    owner.click("#group-share")
    expect(owner.locator("#group-notice")).to_contain_text(f"/g/{code}?lang=en")
    expect(owner.locator("#group-alone")).to_be_visible()
    shot(owner, "groups-en-1-started")

    # The friend opens the invite, takes the test with another photo and joins with one tap.
    friend.goto(f"/g/{code}")
    expect(friend.locator("#group-title")).to_have_text("Sam님의 그룹")
    expect(friend.locator("#group-take-test")).to_be_visible()
    expect(friend.locator(".member.you")).to_have_count(0)
    shot(friend, "groups-ko-1-invited")
    friend.click("#group-start-test")
    expect(friend.locator("#main-title")).to_be_visible()
    choose_photo(friend, friend_photo)
    expect(friend.locator("#image-title")).to_be_visible()
    fill_form(friend, "ENFP", ("2001", "12", "31"))
    press_analyse(friend)
    expect(friend).to_have_url(RESULT_URL, timeout=60_000)
    join = friend.locator("#invite-join")
    expect(join).to_have_text("Sam님의 그룹에 참여하기")
    friend.locator("#start-nickname").fill("민수")
    shot(friend, "groups-ko-2-result-invited")
    join.click()
    expect(friend).to_have_url(GROUP_URL)
    expect(friend.locator("#group-members .member")).to_have_count(2)
    members = ranked(friend, code)
    order = [m["nickname"] for m in members]
    assert sorted(order) == ["Sam", "민수"]
    expect(friend.locator("#group-members .member .nickname")).to_have_text(order)
    expect(friend.locator(".member.you .nickname")).to_have_text("민수")
    expect(friend.locator("#group-notice")).to_have_text("그룹에 참여했어요.")
    expect(friend.locator(".member .parts li")).to_have_count(6)
    shot(friend, "groups-ko-3-group")

    # Both see the same two, in the same order, each marked "you" on their own phone.
    owner.reload()
    expect(owner.locator("#group-members .member .nickname")).to_have_text(order)
    expect(owner.locator(".member.you .nickname")).to_have_text("Sam")
    ranks = [str(m["rank"]) for m in members]  # 1, 2; or 1, 1 for equal scores
    expect(owner.locator("#group-members .member .rank")).to_have_text(ranks)
    shot(owner, "groups-en-2-group")
    save_images(owner, code)  # two members, and a seat for the next

    versus(owner, "민수", "You vs 민수", NOTE_EN, "groups-en-3-versus")
    versus(friend, "Sam", "나 vs Sam", NOTE_KO, "groups-ko-4-versus")
    owner.go_back()
    expect(owner).to_have_url(GROUP_URL)
    expect(owner.locator("#group-title")).to_have_text("Sam's group")
    owner.click("#lang-switch")  # the group in the other language, on the owner's phone
    expect(owner.locator("#group-title")).to_have_text("Sam님의 그룹")
    expect(owner.locator(".member.you .badge").first).to_have_text("나")
    owner.click("#lang-switch")
    expect(owner.locator("#group-title")).to_have_text("Sam's group")

    leave_and_come_back(owner, friend, code)
    delete_and_disappear(owner, friend, code)


def versus(page: Page, other: str, title: str, note: re.Pattern[str], name: str) -> None:
    """From the group view to "you vs ``other``", region by region."""
    page.locator(".member", has_text=other).locator(".compare").click()
    expect(page).to_have_url(VERSUS_URL)
    expect(page.locator("#versus-title")).to_have_text(title)
    expect(page.locator("#versus-rows tr")).to_have_count(3)
    notes = page.locator("#versus-notes li")
    expect(notes).to_have_count(3)
    for text in notes.all_inner_texts():
        assert note.match(text), text
    expect(page.locator("#versus-summary")).not_to_be_empty()
    shot(page, name)
    page.reload()  # the comparison has its own address
    expect(page.locator("#versus-title")).to_have_text(title)


def leave_and_come_back(owner: Page, friend: Page, code: str) -> None:
    """The friend leaves; then joins again with the result already on the phone."""
    friend.click("#versus-back")
    expect(friend.locator("#group-leave")).to_be_visible()
    friend.click("#group-leave")
    expect(friend.locator("#group-notice")).to_have_text("그룹에서 나왔어요.")
    expect(friend.locator("#group-members .member")).to_have_count(1)
    owner.reload()
    expect(owner.locator("#group-members .member .nickname")).to_have_text(["Sam"])

    expect(friend.locator("#group-join")).to_be_visible()
    expect(friend.locator("#join-results input:checked")).to_have_count(1)
    expect(friend.locator("#join-nickname")).to_have_value("민수")  # remembered
    shot(friend, "groups-ko-5-join-with-a-result")
    friend.click("#join-button")
    expect(friend.locator("#group-members .member")).to_have_count(2)
    expect(friend.locator(".member.you .nickname")).to_have_text("민수")


def delete_and_disappear(owner: Page, friend: Page, code: str) -> None:
    """The friend deletes their result: it leaves the group with it."""
    result_id = friend.evaluate(
        f"JSON.parse(localStorage.getItem('alphamale.member.{code}')).result"
    )
    friend.goto(f"/r/{result_id}")
    friend.click("#delete-button")
    friend.click("#delete-yes")
    expect(friend.locator("#main-notice")).to_have_text("결과와 사진을 삭제했어요.")
    owner.reload()
    expect(owner.locator("#group-members .member .nickname")).to_have_text(["Sam"])
    expect(owner.locator(".compare")).to_have_count(0)
    friend.goto(f"/g/{code}")
    expect(friend.locator("#group-take-test")).to_be_visible()  # no result left to join with


def save_images(page: Page, code: str) -> None:
    """The group's card and story in both languages, kept to look at."""
    for lang in ("en", "ko"):
        for name, size in (("card.png", (1200, 630)), ("story.png", (1080, 1920))):
            response = page.request.get(f"/g/{code}/{name}?lang={lang}")
            assert response.ok and response.headers["content-type"] == "image/png"
            assert Image.open(io.BytesIO(response.body())).size == size
            (SCREENSHOTS / f"groups-{lang}-{name}").write_bytes(response.body())


def test_an_unknown_invite_says_so(phone: Page) -> None:
    allow_errors(phone, "status of 404")
    phone.goto("/g/AAAAAAAAAAAAAAAA")
    expect(phone.locator("#group-missing-title")).to_have_text("Group not found")
    phone.click("#group-missing-home")
    expect(phone.locator("#main-title")).to_be_visible()
