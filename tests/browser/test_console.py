"""The operators' catalog console (/admin) in Chromium, on the live stack: the token typed in
and kept in the tab's sessionStorage, two generated images uploaded with the file picker and one
deleted, the glance, the models and a scale; in Korean on a phone, a dropped image and the
listing's `has_face` badges. Screenshots under var/screenshots/console-*.png."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Locator, Page, Route, expect

from tests.browser.support import LiveStack, allow_errors, shot

TOKEN_KEY = "alphamale.admin.token"
TYPE = "gamma"  # the tab the test uploads into (the demo catalog has images there too)
UPLOAD_TIMEOUT = 60_000  # a busy 2-core machine cleans and stores an image in seconds
MODEL_TIMEOUT = 180_000  # the management API answers once workers are READY


def drawn_png(shape: str, colour: tuple[int, int, int]) -> bytes:
    """A 320 px generated picture (a shape on a plain ground): no person in it."""
    image = Image.new("RGB", (320, 320), (28, 32, 48))
    draw = ImageDraw.Draw(image)
    if shape == "circle":
        draw.ellipse((60, 60, 260, 260), fill=colour)
    else:
        draw.rectangle((70, 70, 250, 250), fill=colour)
    draw.line((0, 319, 319, 0), fill=(240, 240, 240), width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def pictures(tmp_path: Path) -> list[Path]:
    paths = []
    for name, shape, colour in (
        ("console-circle.png", "circle", (6, 214, 160)),
        ("console-square.png", "square", (255, 209, 102)),
    ):
        path = tmp_path / name
        path.write_bytes(drawn_png(shape, colour))
        paths.append(path)
    return paths


def admin_token(stack: LiveStack) -> str:
    assert stack.settings.admin_token is not None, "the live stack runs with an admin token"
    return stack.settings.admin_token.get_secret_value()


def sign_in(page: Page, token: str) -> None:
    page.fill("#token", token)
    page.click("#token-submit")


def card(page: Page, caption: str) -> Locator:
    return page.locator("#catalog-grid .card").filter(
        has=page.locator(".caption", has_text=re.compile(f"^{re.escape(caption)}$"))
    )


def thumbnail_loaded(page: Page, caption: str) -> None:
    page.wait_for_function(
        """caption => [...document.querySelectorAll('#catalog-grid .card')].some(c =>
             c.querySelector('.caption').textContent === caption &&
             c.querySelector('img').complete && c.querySelector('img').naturalWidth > 0)""",
        arg=caption,
        timeout=UPLOAD_TIMEOUT,
    )


def analyses_refused_for_input(page: Page, count: int) -> None:
    """Analyses the gateway answers without a model: a bad MBTI (422 invalid_mbti)."""
    consent = page.request.get("/v1/consent").json()["version"]
    for _ in range(count):
        response = page.request.post(
            "/v1/analyses",
            multipart={
                "mbti": "nope",
                "birth_date": "1995-04-17",
                "consent": consent,
                "image": {"name": "x.jpg", "mimeType": "image/jpeg", "buffer": b"never read"},
            },
        )
        assert response.status == 422 and response.json()["code"] == "invalid_mbti"


def test_an_operator_uploads_two_images_and_deletes_one(
    desktop: Page, live_stack: LiveStack, pictures: list[Path]
) -> None:
    page = desktop
    token = admin_token(live_stack)
    allow_errors(page, r"status of 401")  # the wrong token's answer
    analyses_refused_for_input(page, 2)

    page.goto("/admin")
    expect(page.locator("#sign-in-title")).to_have_text("Catalog console")
    expect(page.locator("#token")).to_be_focused()
    sign_in(page, "not-the-token")
    expect(page.locator("#sign-in-notice")).to_contain_text("refused this token")
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None

    sign_in(page, token)
    expect(page.locator("#console-title")).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") == token
    stored = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
    assert token not in stored and token not in page.url
    assert token not in json.dumps(page.context.cookies())

    # the glance: numbers, the two analyses among them
    stats = page.locator("#glance-stats .stat")
    expect(stats).to_have_count(7)
    expect(stats.nth(0).locator(".value")).to_have_text(re.compile(r"^\d+(\.\d+)?$"))
    expect(stats.nth(1).locator(".value")).to_have_text(re.compile(r"^[\d,]+ ms$"))
    expect(page.locator("#glance-outcomes")).to_contain_text(re.compile(r"invalid_mbti \d+"))
    expect(page.locator("#glance-window")).to_contain_text("min")

    # the models: each with its default version and READY workers
    models = page.locator("#models-list .model")
    expect(models).to_have_count(3)
    for name in ("face_check", "face_regions", "face_type"):
        model = page.locator(f'.model[data-model="{name}"]')
        expect(model.locator(".badge.default")).to_have_count(1)
        expect(model.locator(".badge.worker.ready").first).to_be_visible()

    # two images with the file picker, into the Gamma tab
    page.click(f"#tab-{TYPE}")
    expect(page.locator(f"#tab-{TYPE}")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#catalog-grid .card").first).to_be_visible()  # the demo catalog
    page.set_input_files("#file-input", [str(p) for p in pictures])
    rows = page.locator("#upload-list .upload")
    expect(rows).to_have_count(2)
    for row, picture in zip(rows.all(), pictures, strict=True):
        expect(row.locator("input[type=text]")).to_have_value(picture.name)  # caption default
        expect(row.locator("select")).to_have_value(TYPE)
    expect(page.locator("#upload-start")).to_have_text("Upload 2 images")
    page.click("#upload-start")
    for row in rows.all():
        expect(row).to_have_attribute("data-status", "done", timeout=UPLOAD_TIMEOUT)
        expect(row.locator("progress")).to_have_attribute("value", "100")
        expect(row.locator(".upload-status")).to_have_text("Added to Gamma")
    expect(page.locator("#catalog-status")).to_have_text("2 uploaded.")
    for picture in pictures:
        expect(card(page, picture.name)).to_have_count(1)
        thumbnail_loaded(page, picture.name)
    new_card = card(page, pictures[0].name)
    expect(new_card.locator("time")).to_have_text(re.compile(r"\d"))
    shot(page, "console-desktop")

    # a reload keeps the tab's token: the console opens again, the images come from the server
    page.reload()
    expect(page.locator("#console-title")).to_be_visible()
    page.click(f"#tab-{TYPE}")
    for picture in pictures:
        expect(card(page, picture.name)).to_have_count(1)

    # delete one, asked in the page
    kept, gone = pictures
    card(page, gone.name).get_by_role("button", name=f"Delete “{gone.name}”").click()
    confirm = card(page, gone.name).locator(".confirm")
    expect(confirm).to_be_visible()
    expect(confirm.get_by_role("button", name="Keep it")).to_be_focused()
    shot(page, "console-desktop-confirm", full_page=False)
    confirm.get_by_role("button", name="Delete it").click()
    expect(card(page, gone.name)).to_have_count(0)
    expect(page.locator("#catalog-status")).to_have_text(f"Deleted “{gone.name}”.")
    expect(card(page, kept.name)).to_have_count(1)
    listed = page.request.get(
        f"/v1/admin/catalog?type={TYPE}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    captions = {image["caption"] for image in listed}
    assert kept.name in captions and gone.name not in captions

    # scaling to the bounds it has: pending, then done, through the synchronous API
    model = page.locator('.model[data-model="face_check"]')
    model.locator(".version").first.get_by_role("button", name="Scale").click()
    expect(model.locator(".model-status")).to_have_class(
        re.compile(r"\bdone\b"), timeout=MODEL_TIMEOUT
    )
    expect(model.locator(".model-status")).to_contain_text("Done: face_check")

    page.click("#sign-out")
    expect(page.locator("#sign-in-title")).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None


def test_the_console_speaks_korean_on_a_phone(
    korean_phone: Page, live_stack: LiveStack, pictures: list[Path]
) -> None:
    page = korean_phone
    listed: list[int] = []

    def with_faces(route: Route) -> None:  # the listing as it reads once descriptors are stored
        images = route.fetch().json()  # other tests may have added to the shared catalog
        for i, image in enumerate(images):
            image["has_face"] = i == 0
        listed.append(len(images))
        route.fulfill(json=images)

    page.route(re.compile(r"/v1/admin/catalog\?type="), with_faces)
    page.goto("/admin")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.locator("#sign-in-title")).to_have_text("카탈로그 콘솔")
    expect(page.locator("#token-submit")).to_have_text("콘솔 열기")
    shot(page, "console-phone-ko-sign-in")
    sign_in(page, admin_token(live_stack))
    expect(page.locator("#glance-title")).to_have_text("서비스 현황")
    expect(page.locator("#catalog-title")).to_have_text("참고 이미지 카탈로그")
    expect(page.locator("#tab-alpha")).to_have_text(re.compile(r"^알파"))
    expect(page.locator("#models-title")).to_have_text("모델")
    expect(page.locator("#models-list .model")).to_have_count(3)
    expect(page.locator(".badge.default").first).to_have_text("기본")
    expect(page.locator("#catalog-grid .badge.face")).to_have_text(["얼굴 찾음"])
    no_face = page.locator("#catalog-grid .badge.no-face")
    expect(no_face.first).to_have_text("얼굴 없음")
    expect(no_face).to_have_count(listed[-1] - 1)

    # a file dropped on the zone is staged like a chosen one, its caption its name
    data = list(pictures[0].read_bytes())
    transfer = page.evaluate_handle(
        """bytes => {
             const transfer = new DataTransfer();
             const file = new File([new Uint8Array(bytes)], 'dropped.png', {type: 'image/png'});
             transfer.items.add(file);
             return transfer;
           }""",
        data,
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": transfer})
    row = page.locator("#upload-list .upload")
    expect(row).to_have_count(1)
    expect(row.locator("input[type=text]")).to_have_value("dropped.png")
    expect(row.locator(".field span").first).to_have_text("설명")
    expect(page.locator("#upload-start")).to_have_text("이미지 1개 올리기")
    page.click("#upload-start")
    expect(row).to_have_attribute("data-status", "done", timeout=UPLOAD_TIMEOUT)
    expect(row.locator(".upload-status")).to_have_text("알파에 추가됨")
    thumbnail_loaded(page, "dropped.png")
    shot(page, "console-phone-ko")

    page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#glance-title")).to_have_text("The service at a glance")
