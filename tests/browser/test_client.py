"""The web client as people use it: a phone (English and Korean) and a desktop, in Chromium.

Each test walks one path through the live stack (real gateway, TorchServe, SQLite, local
storage) and leaves screenshots under var/screenshots/ (phone size unless named desktop).
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, Request, Route, expect
from sqlalchemy.engine import make_url

from core.dataset import default_dataset_dir
from tests.browser.support import SCREENSHOTS, LiveStack, allow_errors, shot
from tests.corpus import good_images

TYPE_EN = re.compile(r"^(Alpha|Beta|Gamma|Delta|Omega)$")
TYPE_KO = re.compile(r"^(알파|베타|감마|델타|오메가)$")
RESULT_URL = re.compile(r"/r/[A-Za-z0-9_-]+$")


def choose_photo(page: Page, photo: Path) -> None:
    page.set_input_files("#gallery-input", str(photo))


def fill_form(
    page: Page, mbti: str = "INTJ", birth: tuple[str, str, str] = ("1995", "04", "17")
) -> None:
    page.select_option("#mbti", mbti)
    for part, value in zip(("year", "month", "day"), birth, strict=True):
        page.select_option(f"#birth-{part}", value)


def press_analyse(page: Page) -> None:
    """Analyse; the first time on this device, through the consent step (its box unticked)."""
    agreed = page.evaluate("localStorage.getItem('alphamale.consent')")
    page.click("#analyse-button")
    if agreed is None:
        expect(page.locator("#consent-title")).to_be_visible()
        expect(page.locator("#consent-box")).not_to_be_checked()
        page.check("#consent-box")
        page.click("#consent-accept")


def analyse(page: Page, photo: Path) -> None:
    """From the start page to a result view."""
    page.goto("/")
    choose_photo(page, photo)
    expect(page.locator("#image-title")).to_be_visible()
    fill_form(page)
    press_analyse(page)
    expect(page.locator("#result-type")).to_be_visible(timeout=60_000)
    expect(page).to_have_url(RESULT_URL)


def in_viewport(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


def test_a_face_gets_a_type_its_explained_score_and_four_references(
    phone: Page, face_photo: Path
) -> None:
    phone.goto("/")
    shot(phone, "phone-1-start")
    choose_photo(phone, face_photo)
    expect(phone.locator("#image-title")).to_be_visible()
    assert in_viewport(phone, "#analyse-button"), "Analyse must be reachable without scrolling"
    shot(phone, "phone-2-photo")
    fill_form(phone)
    press_analyse(phone)
    expect(phone.locator("#result-type")).to_have_text(TYPE_EN, timeout=60_000)
    expect(phone).to_have_url(RESULT_URL)

    rows = phone.locator("#result-regions tr")
    expect(rows).to_have_count(3)
    points = [int(rows.nth(i).locator("td.num").inner_text()) for i in range(3)]
    score = phone.locator("#result-score").inner_text()
    assert score == f"{sum(points)} pts"
    for i, part in enumerate(("Face", "T‑zone", "Jaw")):
        expect(rows.nth(i).locator("th")).to_have_text(part)
        expect(rows.nth(i).locator("td").first).to_have_text(
            re.compile(r"^(Alpha|Beta|Gamma|Delta|Omega)( (clear|likely|borderline))?$")
        )
    expect(phone.locator("#result-bounds")).to_contain_text(f"{sum(points)} points")
    expect(phone.locator("#result-references figure")).to_have_count(4)
    expect(phone.locator("#result-references-note")).to_be_visible()  # demo catalog
    expect(phone.locator("#result-references figcaption").first).to_have_text("Demo illustration")
    expect(phone.locator("#result-canvas")).to_be_visible()
    assert in_viewport(phone, "#action-bar"), "Share and Save are on the first screen"
    assert in_viewport(phone, "#result-score"), "so is the explained score"
    shot(phone, "phone-3-result")
    phone.locator("#result-verdict").scroll_into_view_if_needed()
    assert in_viewport(phone, "#action-bar"), "the bar stays on screen while scrolling"
    shot(phone, "phone-4-result-scrolled", full_page=False)


def test_back_and_reload_keep_their_places(phone: Page, face_photo: Path) -> None:
    analyse(phone, face_photo)
    url, kind = phone.url, phone.locator("#result-type").inner_text()
    phone.go_back()
    expect(phone.locator("#image-title")).to_be_visible()  # the photo and its fields
    expect(phone.locator("#mbti")).to_have_value("INTJ")
    phone.go_back()
    expect(phone.locator("#main-title")).to_be_visible()
    phone.go_forward()
    expect(phone.locator("#image-title")).to_be_visible()
    phone.go_forward()
    expect(phone.locator("#result-type")).to_have_text(kind)
    phone.reload()
    expect(phone.locator("#result-type")).to_have_text(kind)
    assert phone.url == url
    expect(phone.locator("#result-regions tr")).to_have_count(3)
    expect(phone.locator("#result-canvas")).to_be_visible()  # the photo survives a reload
    expect(phone.locator("#delete-button")).to_be_visible()  # and so does the delete token


def test_a_photo_without_a_face_gets_the_framing_example(
    phone: Page, landscape_photo: Path
) -> None:
    allow_errors(phone, "status of 422")
    phone.goto("/")
    choose_photo(phone, landscape_photo)
    fill_form(phone)
    press_analyse(phone)
    expect(phone.locator("#problem-title")).to_have_text("No face found", timeout=60_000)
    expect(phone.locator(".example")).to_be_visible()
    shot(phone, "phone-5-no-face")
    phone.go_back()
    expect(phone.locator("#image-title")).to_be_visible()


def test_a_group_photo_says_how_many_faces_it_has(phone: Page, group_photo: Path) -> None:
    allow_errors(phone, "status of 422")
    phone.goto("/")
    choose_photo(phone, group_photo)
    fill_form(phone)
    press_analyse(phone)
    title = phone.locator("#problem-title")
    expect(title).to_have_text(re.compile(r"^\d+ faces in this photo$"), timeout=60_000)
    assert int(title.inner_text().split()[0]) > 1
    expect(phone.locator("#problem-hint")).to_contain_text("Crop the photo to your face")
    expect(phone.locator(".example")).to_be_visible()
    shot(phone, "phone-6-group")
    phone.click("#retry-button")
    expect(phone.locator("#main-title")).to_be_visible()


def test_a_renamed_text_file_is_refused_before_the_form(phone: Page, fake_jpeg: Path) -> None:
    phone.goto("/")
    choose_photo(phone, fake_jpeg)
    notice = phone.locator("#main-notice")
    expect(notice).to_have_text(
        "“photo.jpg” is not a photo. Choose a JPEG, PNG, WebP or HEIC image."
    )
    expect(phone.locator("#image-title")).to_be_hidden()
    shot(phone, "phone-7-not-a-photo")


def test_a_heic_photo_is_accepted_without_a_preview(phone: Page, tmp_path: Path) -> None:
    heic = tmp_path / "IMG_0001.HEIC"
    heic.write_bytes(next(case.data for case in good_images() if case.name == "heic_64x64"))
    phone.goto("/")
    choose_photo(phone, heic)
    expect(phone.locator("#image-title")).to_be_visible()
    expect(phone.locator("#preview-missing")).to_be_visible()  # Chromium cannot decode HEIC


def test_analyse_is_inert_until_both_fields_are_set_and_says_the_age_rule(
    phone: Page, face_photo: Path
) -> None:
    phone.goto("/")
    choose_photo(phone, face_photo)
    # The photo is read asynchronously; its view opens with the notices cleared. Tap after that.
    expect(phone.locator("#image-title")).to_be_visible()
    button, notice = phone.locator("#analyse-button"), phone.locator("#image-notice")
    expect(button).to_have_attribute("aria-disabled", "true")
    button.dispatch_event("click")  # aria-disabled: Playwright would wait; a person can tap
    expect(notice).to_have_text("Choose your MBTI and your birth date first.")
    phone.select_option("#mbti", "ENFP")
    button.dispatch_event("click")  # aria-disabled: Playwright would wait; a person can tap
    expect(notice).to_have_text("Choose your birth date (year, month and day) first.")
    expect(phone.locator("#age-rule")).to_have_text("AlphaMale is for people aged 14 or over.")
    today = date.today()
    youngest = today.replace(year=today.year - 14)
    # The latest year offered, in December: younger than 14 unless today is 31 December.
    fill_form(phone, "ENFP", (str(youngest.year), "12", "31"))
    if youngest < date(youngest.year, 12, 31):
        expect(notice).to_contain_text("aged 14 or over")
        expect(button).to_have_attribute("aria-disabled", "true")
    fill_form(phone, "ENFP", ("2000", "02", "29"))
    expect(button).to_have_attribute("aria-disabled", "false")
    expect(notice).to_be_hidden()


def test_korean_from_the_browser_language(korean_phone: Page, face_photo: Path) -> None:
    page = korean_phone
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.locator("#main-title")).to_have_text("나의 얼굴 유형은?")
    shot(page, "phone-ko-1-start")
    choose_photo(page, face_photo)
    expect(page.locator("#birth-month option[value='01']")).to_have_text("1월")
    expect(page.locator("#birth-year option[value='1995']")).to_have_text("1995년")
    fill_form(page)
    press_analyse(page)
    expect(page.locator("#result-type")).to_have_text(TYPE_KO, timeout=60_000)
    expect(page.locator("#result-score")).to_have_text(re.compile(r"^\d+점$"))
    expect(page.locator("#result-regions tr").first.locator("th")).to_have_text("얼굴")
    expect(page.locator("#share-button")).to_have_text("공유하기")
    description = page.locator("#result-description").inner_text()
    assert re.search(r"[가-힣]", description), description
    shot(page, "phone-ko-2-result")
    page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#result-type")).to_have_text(TYPE_EN)
    page.reload()  # the choice is remembered
    expect(page.locator("#result-type")).to_have_text(TYPE_EN)


def test_consent_is_its_own_step_with_an_unticked_box_in_korean(
    korean_phone: Page, face_photo: Path
) -> None:
    """Nothing is sent before the person ticks the box; they may refuse; once agreed, the next
    analysis on this device goes straight on."""
    page = korean_phone
    consent = page.request.get("/v1/consent").json()
    page.goto("/")
    choose_photo(page, face_photo)
    fill_form(page)
    page.click("#analyse-button")
    expect(page.locator("#consent-title")).to_have_text(consent["texts"]["ko"]["title"])
    expect(page.locator("#consent-text p")).to_have_count(4)
    expect(page.locator("#consent-text")).to_contain_text("거부할 권리")
    expect(page.locator("#consent-agree")).to_have_text(consent["texts"]["ko"]["agree"])
    box, accept = page.locator("#consent-box"), page.locator("#consent-accept")
    expect(box).not_to_be_checked()
    expect(accept).to_have_attribute("aria-disabled", "true")
    shot(page, "phone-ko-0-consent")
    accept.dispatch_event("click")  # aria-disabled: a person can still tap it
    expect(page.locator("#consent-notice")).to_contain_text("동의 상자에 체크")
    expect(page.locator("#loading-title")).to_be_hidden()
    page.click("#consent-back")  # refuse: back to the photo, nothing sent
    expect(page.locator("#image-title")).to_be_visible()
    assert page.evaluate("localStorage.getItem('alphamale.consent')") is None
    page.click("#analyse-button")
    expect(box).not_to_be_checked()  # asked again, never ticked for them
    box.check()
    accept.click()
    expect(page.locator("#result-type")).to_have_text(TYPE_KO, timeout=60_000)
    assert page.evaluate("localStorage.getItem('alphamale.consent')") == consent["version"]
    page.go_back()
    expect(page.locator("#image-title")).to_be_visible()  # back: the form, not the consent
    page.click("#analyse-button")
    expect(page.locator("#result-type")).to_have_text(TYPE_KO, timeout=60_000)


def test_delete_asks_in_the_page_then_says_so_as_a_success(phone: Page, face_photo: Path) -> None:
    analyse(phone, face_photo)
    url = phone.url
    phone.click("#delete-button")
    confirm = phone.locator("#delete-confirm")
    expect(confirm).to_be_visible()
    shot(phone, "phone-8-delete-confirm")
    phone.click("#delete-cancel")
    expect(confirm).to_be_hidden()
    phone.click("#delete-button")
    phone.click("#delete-yes")
    notice = phone.locator("#main-notice")
    expect(notice).to_have_text("Your result and photo were deleted.")
    expect(notice).to_have_class(re.compile(r"\bsuccess\b"))
    shot(phone, "phone-9-deleted")
    allow_errors(phone, "status of 404")
    phone.goto(url)
    expect(phone.locator("#missing-title")).to_be_visible()


def test_share_page_card_story_and_saves(phone: Page, face_photo: Path) -> None:
    analyse(phone, face_photo)
    result_id = phone.url.rsplit("/", 1)[-1]
    slug = phone.locator("#result-type").inner_text().lower()
    with phone.expect_download() as story:
        phone.click("#story-button")
    assert story.value.suggested_filename == f"alphamale-{slug}-story.png"
    with phone.expect_download() as card:
        phone.click("#save-button")
    assert card.value.suggested_filename == f"alphamale-{slug}.png"

    for lang in ("en", "ko"):
        page = phone.request.get(f"/share/{result_id}?lang={lang}")
        assert page.ok
        phone.goto(f"/share/{result_id}?lang={lang}")
        expect(phone.locator("html")).to_have_attribute("lang", lang)
        og_image = phone.locator("meta[property='og:image']").get_attribute("content") or ""
        assert og_image.endswith(f"/share/{result_id}/card.png?lang={lang}"), og_image
        for prop in ("og:title", "og:description", "og:url"):
            assert phone.locator(f"meta[property='{prop}']").get_attribute("content")
        shot(phone, f"phone-10-share-{lang}")
    for name, size in (("card.png", (1200, 630)), ("story.png", (1080, 1920))):
        response = phone.request.get(f"/share/{result_id}/{name}?lang=ko")
        assert response.ok and response.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(response.body())).size == size
        (SCREENSHOTS / f"ko-{name}").write_bytes(response.body())  # to look at


def test_desktop_layout(desktop: Page, face_photo: Path) -> None:
    analyse(desktop, face_photo)
    expect(desktop.locator("#result-references figure")).to_have_count(4)
    for cell in desktop.locator("#result-regions th").all():  # part names never wrap
        box = cell.bounding_box()
        assert box is not None and box["height"] < 60, box
    shot(desktop, "desktop-result")


def test_favicon_and_manifest(phone: Page) -> None:
    phone.goto("/")
    manifest = phone.locator("link[rel='manifest']").get_attribute("href")
    icon = phone.locator("link[rel='icon']").get_attribute("href")
    assert manifest and icon
    response = phone.request.get(manifest)
    assert response.ok
    data = response.json()
    assert data["start_url"] == "/" and data["display"] == "standalone"
    sizes = {entry["sizes"] for entry in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert phone.request.get(icon).ok


def close_to_someone(stack: LiveStack, folder: Path) -> list[Path]:
    """Three selfies of the first London person (neutral, smiling, the neutral one mirrored)
    whose combined answer is "close to" another type, written to ``folder``."""
    images = default_dataset_dir() / "images"
    people = sorted(path.stem[:3] for path in images.glob("*_03.jpg"))
    if not people:
        pytest.skip(f"London Face set not found at {images.parent}")
    consent = httpx.get(f"{stack.base_url}/v1/consent").json()["version"]
    for person in people[:40]:
        neutral, smiling = images / f"{person}_03.jpg", images / f"{person}_08.jpg"
        mirrored = folder / f"{person}_03_mirrored.jpg"
        Image.open(neutral).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(mirrored)
        selfies = [neutral, smiling, mirrored]
        files = [("image", (p.name, p.read_bytes(), "image/jpeg")) for p in selfies]
        form = {"mbti": "INTJ", "birth_date": "1995-04-17", "consent": consent}
        answer = httpx.post(f"{stack.base_url}/v1/analyses", data=form, files=files, timeout=120)
        if answer.status_code == 201 and answer.json()["near"]:
            return selfies
    pytest.fail("none of 40 London people's three selfies answered 'close to' another type")


def test_three_selfies_in_korean_and_close_to(
    korean_phone: Page, live_stack: LiveStack, tmp_path: Path
) -> None:
    """Add up to two more selfies (add, remove, add again), one request, and the answer says
    it is close to another type and offers more selfies."""
    page = korean_phone
    first, second, third = close_to_someone(live_stack, tmp_path)
    page.goto("/")
    choose_photo(page, first)
    expect(page.locator("#image-title")).to_be_visible()
    expect(page.locator("#more-lead")).to_have_text(
        "셀카를 2장까지 더 추가하면 결과가 더 안정적이에요."
    )
    choose_photo(page, second)  # on the form, a picked photo joins the first
    expect(page.locator("#thumbs li")).to_have_count(2)
    choose_photo(page, third)
    expect(page.locator("#thumbs li")).to_have_count(3)
    expect(page.locator("#more-buttons")).to_be_hidden()
    page.click("#thumbs li:nth-child(3) .remove")
    expect(page.locator("#thumbs li")).to_have_count(2)
    expect(page.locator("#more-lead")).to_have_text(
        "셀카를 1장 더 추가하면 결과가 더 안정적이에요."
    )
    choose_photo(page, third)
    expect(page.locator("#thumbs li")).to_have_count(3)
    shot(page, "phone-ko-selfies")
    fill_form(page)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    press_analyse(page)
    expect(page.locator("#result-type")).to_have_text(
        re.compile(r"^(알파|베타|감마|델타|오메가) · (알파|베타|감마|델타|오메가)에 가까워요$"),
        timeout=60_000,
    )
    expect(page.locator("#result-photos")).to_have_text("셀카 3장으로 분석했어요")
    assert [url.rsplit("/", 1)[-1] for url in posts] == ["analyses"]  # one request, three photos
    expect(page.locator("#result-steadier")).to_be_visible()
    shot(page, "phone-ko-close-to")


def test_my_results_in_korean_open_delete_prune_and_forget_the_phone(
    korean_phone: Page, live_stack: LiveStack, face_photo: Path
) -> None:
    """Three results made here: one deleted from the list, one deleted behind its back (the
    server's 404 drops it), the last with "forget this phone" (deleted on the server too)."""
    page = korean_phone
    allow_errors(page, "status of 404")  # the list asks after each result: gone ones are 404
    ids = []
    for _ in range(3):
        analyse(page, face_photo)
        ids.append(page.url.rsplit("/", 1)[-1])
    page.goto("/")
    link = page.locator("#mine-link")
    expect(link).to_have_text("내 결과 (3)")
    link.click()
    expect(page).to_have_url(re.compile(r"/me$"))
    items = page.locator("#mine-list .mine-item")
    expect(items).to_have_count(3)
    expect(items.first.locator(".what")).to_have_text(
        re.compile(r"^(알파|베타|감마|델타|오메가) · \d+점$")
    )
    shot(page, "phone-ko-mine")

    items.first.locator("button", has_text="삭제").click()
    items.first.locator(".confirm button", has_text="삭제").click()
    expect(page.locator("#mine-notice")).to_have_text("결과를 삭제했어요.")
    expect(items).to_have_count(2)
    gone = [i for i in ids if page.locator(f'.mine-item[data-id="{i}"]').count() == 0]
    assert len(gone) == 1
    assert httpx.get(f"{live_stack.base_url}/v1/analyses/{gone[0]}").status_code == 404

    elsewhere = page.locator("#mine-list .mine-item").first.get_attribute("data-id")
    token = page.evaluate(f"localStorage.getItem('alphamale.token.{elsewhere}')")
    deleted = httpx.delete(
        f"{live_stack.base_url}/v1/analyses/{elsewhere}", headers={"X-Delete-Token": token}
    )
    assert deleted.status_code == 204
    page.reload()  # /me again: the server no longer has that one
    expect(page.locator("#mine-notice")).to_contain_text("1개를 목록에서 뺐어요")
    expect(items).to_have_count(1)
    last = items.first.get_attribute("data-id")

    page.click("#mine-forget")
    page.click("#mine-forget-yes")
    expect(page.locator("#mine-notice")).to_have_text(
        "이 휴대폰의 결과를 모두 삭제했어요. 서버에서도 지웠어요."
    )
    expect(items).to_have_count(0)
    expect(page.locator("#mine-empty")).to_be_visible()
    assert httpx.get(f"{live_stack.base_url}/v1/analyses/{last}").status_code == 404
    assert (
        page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('alphamale.token.'))")
        == []
    )


def test_my_results_drop_entries_past_retention_without_asking_the_server(
    phone: Page, live_stack: LiveStack, face_photo: Path
) -> None:
    """The bug this holds: a result kept on the phone past the retention period stayed in "My
    results" (the server may not have purged it yet, and answers it). An entry older than the
    consent's ``retention_days`` is dropped from the list, with its token, and nothing is asked
    about it; a fresh one stays (asked after, as before)."""
    page = phone
    ids = []
    for _ in range(2):
        analyse(page, face_photo)
        ids.append(page.url.rsplit("/", 1)[-1])
    old, fresh = ids
    consent = httpx.get(f"{live_stack.base_url}/v1/consent").json()
    days = consent["retention_days"]
    assert days == live_stack.settings.retention_days
    token = page.evaluate(f"localStorage.getItem('alphamale.token.{old}')")
    page.evaluate(
        """([id, days]) => {
            const key = `alphamale.result.${id}`;
            const summary = JSON.parse(localStorage.getItem(key));
            summary.at = new Date(Date.now() - (days + 1) * 86400000).toISOString();
            localStorage.setItem(key, JSON.stringify(summary));
        }""",
        [old, days],
    )
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    page.goto("/me")
    expect(page.locator("#mine-notice")).to_have_text(
        "1 result(s) had already expired or been deleted: removed from this list."
    )
    items = page.locator("#mine-list .mine-item")
    expect(items).to_have_count(1)
    expect(items.first).to_have_attribute("data-id", fresh)
    assert [url for url in asked if old in url] == []  # dropped by its age alone
    assert any(url.endswith(f"/v1/analyses/{fresh}") for url in asked)
    assert page.evaluate(f"localStorage.getItem('alphamale.token.{old}')") is None
    assert page.evaluate(f"localStorage.getItem('alphamale.result.{old}')") is None
    owner = {"X-Delete-Token": token}
    kept = httpx.get(f"{live_stack.base_url}/v1/analyses/{old}", headers=owner)
    assert kept.status_code == 200  # the server still had it: the list went by the age
    assert (
        httpx.delete(f"{live_stack.base_url}/v1/analyses/{old}", headers=owner).status_code == 204
    )


# --- a busy server: the client waits Retry-After and sends the very same request once more ----
BUSY = {
    "type": "https://alphamale.example/problems/overloaded",
    "title": "Service overloaded",
    "status": 503,
    "detail": "3 analyses are running and 0 waiting, the most this server takes now.",
    "code": "overloaded",
    "hint": "Try again in a few seconds.",
}
WATCH_BUSY_NOTICE = """() => {
  window.__notices = [];
  const notice = document.getElementById("busy-notice");
  new MutationObserver(() => notice.textContent && window.__notices.push(notice.textContent))
    .observe(notice, { childList: true, characterData: true, subtree: true });
}"""


def busy(page: Page, times: int) -> list[str]:
    """Answer the next ``times`` analyses ``503 overloaded`` with ``Retry-After: 1`` (they never
    reach the server), then let them through; returns each POST's Idempotency-Key, in order.
    The page keeps every text its busy notice shows in ``window.__notices``: a notice lasts a
    second, so it is read once the page is done, never raced."""
    keys: list[str] = []

    def answer(route: Route, request: Request) -> None:
        if request.method != "POST":
            route.continue_()
            return
        keys.append(request.headers.get("idempotency-key", ""))
        if len(keys) > times:
            route.continue_()
            return
        route.fulfill(
            status=503,
            headers={"Retry-After": "1", "Content-Type": "application/problem+json"},
            body=json.dumps(BUSY),
        )

    page.evaluate(WATCH_BUSY_NOTICE)
    page.route("**/v1/analyses", answer)
    return keys


def stored_rows(stack: LiveStack) -> int:
    database = make_url(stack.settings.database_url).database
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        return int(connection.execute("SELECT count(*) FROM analyses").fetchone()[0])


def test_a_busy_answer_is_waited_out_and_the_same_request_sent_once_more(
    phone: Page, live_stack: LiveStack, face_photo: Path
) -> None:
    """``503`` with ``Retry-After: 1``: "busy, retrying in 1 s", then the same request (same
    Idempotency-Key) once more, and its result; one row stored."""
    allow_errors(phone, "status of 503")
    rows = stored_rows(live_stack)
    phone.goto("/")
    keys = busy(phone, times=1)
    choose_photo(phone, face_photo)
    fill_form(phone)
    press_analyse(phone)
    expect(phone.locator("#result-type")).to_have_text(TYPE_EN, timeout=60_000)
    assert phone.evaluate("window.__notices") == ["AlphaMale is busy, retrying in 1 s…"]
    expect(phone.locator("#busy-notice")).to_be_hidden()
    assert len(keys) == 2 and keys[0] and keys[1] == keys[0], keys  # the very same request
    assert stored_rows(live_stack) == rows + 1
    result = phone.url.rsplit("/", 1)[-1]
    assert httpx.get(f"{live_stack.base_url}/v1/analyses/{result}").status_code == 200


def test_error_views_in_korean(korean_phone: Page, landscape_photo: Path) -> None:
    """A photo without a face, then a server still busy after the one retry: each in Korean."""
    page = korean_phone
    allow_errors(page, "status of 422", "status of 503")
    page.goto("/")
    choose_photo(page, landscape_photo)
    fill_form(page)
    press_analyse(page)
    expect(page.locator("#problem-title")).to_have_text("얼굴을 찾지 못했어요", timeout=60_000)
    expect(page.locator("#problem-hint")).to_have_text(
        "이 사진에서 사람 얼굴을 찾을 수 없어요. 예시처럼 찍힌 사진을 골라 주세요."
    )
    shot(page, "phone-ko-no-face")
    page.go_back()
    expect(page.locator("#image-title")).to_be_visible()

    keys = busy(page, times=2)
    page.click("#analyse-button")
    notice = page.locator("#image-notice")
    expect(notice).to_have_text("지금 사용자가 너무 많아요. 1분 뒤에 다시 시도해 주세요.")
    assert page.evaluate("window.__notices") == ["지금 사용자가 많아요. 1초 뒤에 다시 시도할게요…"]
    assert len(keys) == 2 and keys[1] == keys[0], keys  # one retry, the same request
    shot(page, "phone-ko-busy")


def test_look_alike_references_are_shown_with_their_likeness_in_korean(
    korean_phone: Page, face_photo: Path
) -> None:
    """The answer's look-alikes (``references_by: look-alike``, each with its ``similarity``)
    are titled as look-alikes and each says how alike, in Korean; random ones are examples. The
    live stack's catalog is the demo illustrations (no faces), so the result is read back with
    its references marked as the catalog faces nearest the person's would be."""
    page = korean_phone
    likeness = [0.93, 0.88, 0.81, 0.74]
    result = re.compile(r"/v1/analyses/[A-Za-z0-9_-]+$")

    def as_look_alikes(route: Route) -> None:
        response = route.fetch()
        answer = response.json()
        answer["references_by"] = "look-alike"
        for reference, similarity in zip(answer["references"], likeness, strict=True):
            reference.update(similarity=similarity, demo=False, caption="참고 이미지")
        route.fulfill(response=response, json=answer)

    analyse(page, face_photo)  # the server's own answer: examples (the demo catalog has no faces)
    expect(page.locator("#result-references-title")).to_have_text("같은 유형의 예시")
    expect(page.locator("#result-references .similarity")).to_have_count(0)

    page.route(result, as_look_alikes)
    page.reload()
    expect(page.locator("#result-references-title")).to_have_text("나와 닮은 같은 유형")
    shown = page.locator("#result-references .similarity")
    expect(shown).to_have_text([f"{round(s * 100)}% 닮음" for s in likeness])
    expect(page.locator("#result-references-note")).to_be_hidden()
    shot(page, "phone-ko-look-alikes")
