"""Smoke: the client's page loads on a phone, titled, without a console error; and the photo
fixtures answer what tests/browser/conftest.py says they do."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import Photos
from tests.browser.support import LiveStack, page_errors, shot
from tests.fixtures.app import CONSENT


def test_client_page_loads_on_a_phone(phone: Page) -> None:
    response = phone.goto("/")
    assert response is not None and response.status == 200
    expect(phone).to_have_title("AlphaMale · What's your face type?")
    phone.wait_for_load_state("networkidle")
    assert page_errors(phone).messages == []
    assert shot(phone, "smoke-phone").stat().st_size > 0


def test_the_photo_fixtures_get_the_answers_they_stand_for(
    live_stack: LiveStack, photos: Photos
) -> None:
    def analyse(path: Path) -> httpx.Response:
        return client.post(
            "/v1/analyses",
            data={"mbti": "INTJ", "birth_date": "1995-04-17", "consent": CONSENT},
            files={"image": ("photo.jpg", path.read_bytes(), "image/jpeg")},
        )

    with httpx.Client(base_url=live_stack.base_url, timeout=120) as client:
        face = analyse(photos.face)
        assert face.status_code == 201, face.text
        assert len(face.json()["references"]) == 4
        group = analyse(photos.group).json()
        assert (group["code"], group["face_count"] > 1) == ("face_too_small", True), group
        assert analyse(photos.landscape).json()["code"] == "no_face"
        assert analyse(photos.not_image).json()["code"] == "unsupported_media_type"
