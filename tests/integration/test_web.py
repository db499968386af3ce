"""Web pages: the client, the share page (Open Graph, escaping, photo privacy) and the card."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw

from db import repositories
from db.models import Analysis
from db.seed import seed_types
from gateway.clients.storage import new_key
from gateway.config import Settings
from gateway.context import AppContext
from gateway.main import create_app
from gateway.web.card import render_card

BASE = "https://alphamale.example"
EVIL = "<script>alert('x')</script> Bold & \"quoted\" features"
MBTI = {
    "INTJ", "INTP", "ENTJ", "ENTP", "INFJ", "INFP", "ENFJ", "ENFP",
    "ISTJ", "ISFJ", "ESTJ", "ESFJ", "ISTP", "ISFP", "ESTP", "ESFP",
}  # fmt: skip


def poly(x1: float, y1: float, x2: float, y2: float) -> list[list[float]]:
    return [[x1, y1], [x2, y1], [x2, y2], [x1, y2]]


REGIONS = {  # face beta 40 + T-zone alpha 40 + jaw beta 8 = 88
    "face": {"found": True, "type": "beta", "points": 40, "polygon": poly(150, 180, 450, 620)},
    "t_zone": {"found": True, "type": "alpha", "points": 40, "polygon": poly(220, 300, 380, 460)},
    "jaw": {"found": True, "type": "beta", "points": 8, "polygon": poly(180, 470, 420, 620)},
}


@dataclass
class Web:
    context: AppContext
    client: httpx.AsyncClient


def photo_png(size: tuple[int, int] = (600, 800)) -> bytes:
    image = Image.new("RGB", size, (90, 140, 170))
    ImageDraw.Draw(image).ellipse((150, 180, 450, 620), fill=(230, 190, 160))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def decode_png(data: bytes) -> Image.Image:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


class MetaTags(HTMLParser):
    """``<meta property|name=... content=...>`` as a dict, values unescaped by the parser."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        key = values.get("property") or values.get("name")
        if tag == "meta" and key:
            self.tags[key] = values.get("content") or ""


def meta_tags(page: str) -> dict[str, str]:
    parser = MetaTags()
    parser.feed(page)
    return parser.tags


@pytest.fixture
async def web(tmp_path: Path, database_url: str) -> AsyncIterator[Web]:
    """The app on a migrated database with the types seeded, and a client to it."""
    app = create_app(
        Settings(var_dir=tmp_path, database_url=database_url, public_base_url=BASE + "/")
    )
    async with app.router.lifespan_context(app):
        context: AppContext = app.state.context
        async with context.sessions() as session:
            await seed_types(session)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Web(context, client)


async def add_analysis(
    context: AppContext, type_slug: str = "beta", *, opt_in: bool = False, photo: bytes = b""
) -> Analysis:
    """A stored result, its photo in storage, as the pipeline would leave it."""
    key = new_key("uploads", "png")
    await context.storage.put(key, photo or photo_png(), "image/png")
    async with context.sessions() as session:
        face_type = await repositories.get_type(session, type_slug)
        assert face_type is not None
        row = Analysis(
            object_key=key,
            image_sha256="0" * 64,
            mbti="INTJ",
            birth_date=date(1995, 4, 17),
            outcome=type_slug,
            type_id=face_type.id,
            score=88,
            regions=REGIONS,
            model_name="face_type",
            model_version="1.0",
            delete_token_hash="0" * 64,
            share_opt_in=opt_in,
        )
        session.add(row)
        await session.commit()
    return row


async def set_description(context: AppContext, slug: str, description: str) -> None:
    async with context.sessions() as session:
        face_type = await repositories.get_type(session, slug)
        assert face_type is not None
        face_type.description = description
        await session.commit()


async def test_share_page_has_open_graph_tags_and_escapes(web: Web) -> None:
    await set_description(web.context, "beta", EVIL)
    analysis = await add_analysis(web.context, "beta")

    response = await web.client.get(f"/share/{analysis.id}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    tags = meta_tags(page)
    assert tags["og:title"] == "I'm a Beta on AlphaMale"
    assert tags["og:description"] == EVIL
    assert tags["og:image"] == f"{BASE}/share/{analysis.id}/card.png"
    assert tags["og:url"] == f"{BASE}/share/{analysis.id}"
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["twitter:image"] == tags["og:image"]
    assert "<script" not in page  # the description's markup is text, not a tag
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Bold &amp; &quot;quoted&quot;" in page
    for text in ("Face", "T-zone", "Jaw", "Beta · 40 pts", "Alpha · 40 pts", "Beta · 8 pts"):
        assert text in page
    assert 'href="/"' in page
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_share_title_uses_an_before_vowels(web: Web) -> None:
    analysis = await add_analysis(web.context, "omega")
    page = (await web.client.get(f"/share/{analysis.id}")).text
    assert meta_tags(page)["og:title"] == "I'm an Omega on AlphaMale"


async def test_photo_is_shown_only_with_opt_in(web: Web) -> None:
    photo = photo_png()
    private = await add_analysis(web.context, "beta", photo=photo)
    shared = await add_analysis(web.context, "beta", photo=photo, opt_in=True)

    private_page = (await web.client.get(f"/share/{private.id}")).text
    shared_page = (await web.client.get(f"/share/{shared.id}")).text

    assert private.object_key not in private_page and "/v1/files/" not in private_page
    match = re.search(r'<img class="photo" src="([^"]+)"', shared_page)
    assert match and shared.object_key in match.group(1)
    signed = match.group(1).replace("&amp;", "&").removeprefix(BASE)
    assert (await web.client.get(signed)).content == photo

    private_card = (await web.client.get(f"/share/{private.id}/card.png")).content
    shared_card = (await web.client.get(f"/share/{shared.id}/card.png")).content
    beta = (await web.client.get("/v1/types/beta")).json()
    emblem = render_card(beta["name"], "beta", beta["description"], REGIONS, None)
    assert private_card == emblem  # drawn without the photo at all
    assert shared_card != private_card


async def test_card_is_a_1200x630_png(web: Web) -> None:
    analysis = await add_analysis(web.context, "gamma", opt_in=True)
    response = await web.client.get(f"/share/{analysis.id}/card.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "private, max-age=300"
    assert decode_png(response.content).size == (1200, 630)


async def test_unknown_id_is_404(web: Web) -> None:
    page = await web.client.get("/share/00000000-0000-4000-8000-000000000000")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Result not found" in page.text
    card = await web.client.get("/share/no-such-id/card.png")
    assert card.status_code == 404
    assert card.json()["code"] == "not_found"


async def test_client_is_served(tmp_path: Path) -> None:
    """The three client files; nothing in them loads from outside the machine."""
    app = create_app(Settings(var_dir=tmp_path))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        index = await client.get("/")
        script = await client.get("/static/app.js")
        styles = await client.get("/static/styles.css")
        missing = await client.get("/static/secrets.txt")

    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert set(re.findall(r'<option value="([A-Z]{4})">', index.text)) == MBTI
    assert 'accept="image/*" capture="user"' in index.text
    assert "Choose a photo framed like this one" in index.text
    assert script.headers["content-type"].startswith("text/javascript")
    assert "Idempotency-Key" in script.text and "/v1/analyses" in script.text
    assert styles.headers["content-type"].startswith("text/css")
    assert missing.status_code == 404
    for text in (index.text, script.text, styles.text):
        assert not re.search(r"(src|href|url)\s*[=(]\s*[\"']?(https?:)?//", text)


@pytest.mark.parametrize(
    ("slug", "photo_size", "regions"),
    [("alpha", (1600, 500), REGIONS), ("delta", (300, 1200), {}), ("unknown", None, {"jaw": {}})],
)
def test_render_card_handles_odd_inputs(
    slug: str, photo_size: tuple[int, int] | None, regions: dict
) -> None:
    photo = Image.new("RGB", photo_size, (10, 20, 30)) if photo_size else None
    data = render_card("Extraordinarily-Long-Type-Name", slug, "word " * 400, regions, photo)
    assert decode_png(data).size == (1200, 630)
