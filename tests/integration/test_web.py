"""Web pages: the client and its icons, the share page (Open Graph, escaping, photo privacy,
Korean and English) and its card and story images."""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw

from core.taxonomy import TYPE_NAMES_KO
from db import queries
from db.models import Analysis, FaceType
from db.seed import TYPES, seed_types
from gateway.analyses.deps import analysis_service
from gateway.clients.storage import new_key
from gateway.config import Settings
from gateway.context import AppContext
from gateway.main import create_app
from gateway.web import pages
from gateway.web import router as web_router
from gateway.web.card import font_path, render_card
from gateway.web.i18n import Lang, negotiate
from gateway.web.pages import card_content, image_lang
from gateway.web.router import CLIENT_CSP
from gateway.web.story import render_story
from tests.fixtures.app import SIGNING_KEY
from tests.fixtures.spies import counted

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
VERDICT = {
    "combination": "seed_vote",
    "score": 88,
    "points": {
        "face": [50, 40, 30, 20, 10],
        "t_zone": [40, 30, 20, 10, 5],
        "jaw": [10, 8, 6, 4, 2],
    },
    "bounds": [[90, "alpha"], [85, "beta"], [70, "gamma"], [50, "delta"], [0, "omega"]],
    "explanation": "face Beta 40 + T-zone Alpha 40 + jaw Beta 8 = 88 > 85: Beta",
    "explanation_ko": "얼굴 베타 40 + T존 알파 40 + 턱 베타 8 = 88점 > 85점: 베타",
}
BETA_KO = next(seed.description_ko for seed in TYPES if seed.slug == "beta")


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


def images(page: str) -> list[str]:
    """The ``src`` of every ``<img>`` of a page."""
    return re.findall(r"<img\b[^>]*\bsrc=\"([^\"]*)\"", page)


@pytest.fixture
async def web(tmp_path: Path, database_url: str) -> AsyncIterator[Web]:
    """The app on a migrated database with the types seeded, and a client to it."""
    app = create_app(
        Settings(
            var_dir=tmp_path,
            database_url=database_url,
            public_base_url=BASE + "/",
            signing_key=SIGNING_KEY,
        )
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
        face_type = await queries.get_type(session, type_slug)
        assert face_type is not None
        row = Analysis(
            object_key=key,
            image_sha256="0" * 64,
            mbti="INTJ",
            birth_month="1995-04",
            outcome=type_slug,
            type_id=face_type.id,
            score=88,
            regions=REGIONS,
            verdict=VERDICT,
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
        face_type = await queries.get_type(session, slug)
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
    assert tags["og:image"] == f"{BASE}/share/{analysis.id}/card.png?lang=en"
    assert tags["og:url"] == f"{BASE}/share/{analysis.id}?lang=en"
    assert (tags["og:locale"], tags["og:locale:alternate"]) == ("en_US", "ko_KR")
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["twitter:image"] == tags["og:image"]
    assert "<script" not in page  # the description's markup is text, not a tag
    # Jinja2's autoescape (markupsafe) spells the quotes &#39; and &#34;
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Bold &amp; &#34;quoted&#34;" in page
    for text in ("Face", "T-zone", "Jaw", "Beta · 40 pts", "Alpha · 40 pts", "Beta · 8 pts"):
        assert text in page
    assert html.escape(VERDICT["explanation"]) in page and "Score 88" in page
    assert 'href="/"' in page and 'href="?lang=ko"' in page and ">한국어</a>" in page
    assert '<html lang="en">' in page
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers["content-language"] == "en"
    assert response.headers["vary"] == "Accept-Language"


async def test_share_title_uses_an_before_vowels(web: Web) -> None:
    analysis = await add_analysis(web.context, "omega")
    page = (await web.client.get(f"/share/{analysis.id}")).text
    assert meta_tags(page)["og:title"] == "I'm an Omega on AlphaMale"


async def test_photo_is_only_on_the_images_and_only_with_opt_in(web: Web) -> None:
    """No page shows the photo; the card draws it, cropped, only with the person's opt-in."""
    photo = photo_png()
    private = await add_analysis(web.context, "beta", photo=photo)
    shared = await add_analysis(web.context, "beta", photo=photo, opt_in=True)

    for analysis in (private, shared):
        for lang in ("en", "ko"):
            page = (await web.client.get(f"/share/{analysis.id}?lang={lang}")).text
            assert analysis.object_key not in page and "/v1/files/" not in page
            assert images(page) == [f"{BASE}/share/{analysis.id}/card.png?lang={lang}"]

    private_card = (await web.client.get(f"/share/{private.id}/card.png?lang=en")).content
    shared_card = (await web.client.get(f"/share/{shared.id}/card.png?lang=en")).content
    stored = await analysis_service(web.context).find(private.id)
    assert stored is not None
    assert private_card == render_card(card_content(stored, "en"), None)  # no photo at all
    assert shared_card != private_card


async def test_card_is_a_1200x630_png(web: Web) -> None:
    analysis = await add_analysis(web.context, "gamma", opt_in=True)
    response = await web.client.get(f"/share/{analysis.id}/card.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "private, max-age=300"
    assert decode_png(response.content).size == (1200, 630)


@pytest.mark.parametrize("image", ["card.png", "story.png"])
async def test_a_results_image_is_drawn_once_per_version(
    web: Web, monkeypatch: pytest.MonkeyPatch, image: str
) -> None:
    """The bug this holds: every view of a share card or story (each chat app's preview, each
    Save) read the photo and drew it anew. The same result looks the same: one render, then
    the cache or a 304 to If-None-Match with its ETag; a change of what it shows is a new
    version, drawn once more."""
    drawn = counted(monkeypatch, web_router, "draw_card")
    analysis = await add_analysis(web.context, "beta", opt_in=True)
    path = f"/share/{analysis.id}/{image}?lang=en"

    first = await web.client.get(path)
    again = await web.client.get(path)
    etag = first.headers["etag"]
    revalidated = await web.client.get(path, headers={"If-None-Match": etag})
    weakly = await web.client.get(path, headers={"If-None-Match": f'"other", W/{etag}'})

    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert first.headers["content-type"] == "image/png" and again.headers["etag"] == etag
    assert len(drawn) == 1
    for not_modified in (revalidated, weakly):
        assert not_modified.status_code == 304 and not_modified.content == b""
        assert not_modified.headers["etag"] == etag
    assert len(drawn) == 1
    await set_description(web.context, "beta", "A new description of the Beta type.")
    changed = await web.client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag and len(drawn) == 2
    assert (await web.client.get(path)).content == changed.content and len(drawn) == 2


async def test_unknown_id_is_404(web: Web) -> None:
    page = await web.client.get("/share/00000000-0000-4000-8000-000000000000")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Result not found" in page.text and '<html lang="en">' in page.text
    korean = await web.client.get("/share/no-such-id", headers={"Accept-Language": "ko-KR"})
    assert korean.status_code == 404 and korean.headers["content-language"] == "ko"
    assert "결과를 찾을 수 없습니다" in korean.text and '<html lang="ko">' in korean.text
    assert "내 얼굴 유형 알아보기" in korean.text
    for image in ("card.png", "story.png"):
        missing = await web.client.get(f"/share/no-such-id/{image}?lang=ko")
        assert missing.status_code == 404
        assert missing.json()["code"] == "not_found"


async def test_client_is_served(tmp_path: Path) -> None:
    """The client's files; nothing in them loads from outside the machine."""
    app = create_app(Settings(var_dir=tmp_path))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        index = await client.get("/")
        script = await client.get("/static/app.js")
        styles = await client.get("/static/styles.css")
        strings = await client.get("/static/strings.js")
        groups = await client.get("/static/groups.js")
        missing = await client.get("/static/secrets.txt")

    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert set(re.findall(r'"([EI][NS][FT][JP])"', script.text)) == MBTI  # the MBTI choices
    assert 'accept="image/*,.heic,.heif" capture="user"' in index.text
    assert '<script src="/static/strings.js" defer>' in index.text
    assert '<script src="/static/groups.js" defer>' in index.text
    assert groups.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "/v1/groups/" in groups.text and "innerHTML" not in groups.text  # nicknames: text
    assert script.headers["content-type"].startswith("text/javascript")
    assert "Idempotency-Key" in script.text and "/v1/analyses" in script.text
    assert strings.headers["content-type"] == "text/javascript; charset=utf-8"
    assert '"part.face": "얼굴"' in strings.text
    assert styles.headers["content-type"].startswith("text/css")
    assert missing.status_code == 404
    for text in (index.text, script.text, styles.text, strings.text, groups.text):
        assert not re.search(r"(src|href|url)\s*[=(]\s*[\"']?(https?:)?//", text)


async def test_console_is_served_like_the_client(tmp_path: Path) -> None:
    """/admin: the client's CSP, every script and style a file of the gateway, nothing from
    outside; the token kept in sessionStorage only, captions put on the page as text."""
    app = create_app(Settings(var_dir=tmp_path))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        page = await client.get("/admin")
        files = [await client.get(f"/static/{n}") for n in ("admin.js", "admin-strings.js")]
        styles = await client.get("/static/admin.css")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CLIENT_CSP
    assert page.headers["x-robots-tag"] == "noindex" and page.headers["cache-control"] == "no-cache"
    assert re.findall(r"<script[^>]*>", page.text) == [
        '<script src="/static/admin-strings.js" defer>',
        '<script src="/static/admin.js" defer>',
    ]
    assert "<style" not in page.text and " style=" not in page.text
    assert all(f.headers["content-type"] == "text/javascript; charset=utf-8" for f in files)
    assert styles.headers["content-type"].startswith("text/css")
    script = files[0].text
    assert "sessionStorage.setItem(TOKEN_KEY" in script and "Authorization" in script
    assert "localStorage.setItem(TOKEN_KEY" not in script and "cookie" not in script
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    for text in (page.text, styles.text, *(f.text for f in files)):
        assert not re.search(r"(src|href|url)\s*[=(]\s*[\"']?(https?:)?//", text)


STATIC = Path(__file__).resolve().parents[2] / "gateway" / "web" / "static"
STRINGS = {  # a strings file: the page and the scripts that use it
    "strings.js": ("index.html", ("app.js", "groups.js")),
    "admin-strings.js": ("admin.html", ("admin.js",)),
}


@pytest.mark.parametrize("strings", sorted(STRINGS))
def test_the_strings_are_complete_in_both_languages(strings: str) -> None:
    """The client's strings.js and the console's admin-strings.js: the same keys in Korean and
    English, and every key the page and its scripts use."""
    tables = {
        lang: dict(re.findall(r'^\s+"([\w.]+)": "(.*)",$', block, re.M))
        for lang, block in re.findall(
            r"^  (en|ko): \{\n(.*?)^  \},", (STATIC / strings).read_text(), re.M | re.S
        )
    }
    assert set(tables) == {"en", "ko"} and tables["en"].keys() == tables["ko"].keys()
    for key, english in tables["en"].items():  # Korean fills nothing English does not give
        placeholders = set(re.findall(r"\{\w+\}", tables["ko"][key]))
        assert placeholders <= set(re.findall(r"\{\w+\}", english)), key
    for slug, name in TYPE_NAMES_KO.items():  # the client's type names are the server's
        assert tables["ko"][f"type.{slug}"] == name
        assert tables["en"][f"type.{slug}"] == slug.capitalize()
    page, scripts = STRINGS[strings]
    used = set(re.findall(r'data-i18n(?:-[\w-]+)?="([\w.]+)"', (STATIC / page).read_text()))
    for script in scripts:
        used |= set(re.findall(r'\bt\("([\w.]+)"', (STATIC / script).read_text()))
    assert used and used <= tables["en"].keys(), used - tables["en"].keys()


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        (None, None, "en"),
        (None, "", "en"),
        (None, "fr-FR, de;q=0.9", "en"),
        (None, "*", "en"),
        (None, "ko", "ko"),
        (None, "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "ko"),
        (None, "en-US,en;q=0.9,ko;q=0.8", "en"),
        (None, "en;q=0.5, ko-KR;q=0.8", "ko"),
        (None, "ko;q=0, en;q=0.1", "en"),
        (None, "fr, ko;q=0.3, en;q=0.3", "ko"),  # a tie: the first listed
        (None, "ko;q=oops, en", "en"),
        ("ko", "en-US,en", "ko"),  # the query beats the header
        ("en", "ko-KR,ko", "en"),
        ("KO-kr", None, "ko"),
        ("fr", "ko-KR", "ko"),  # an unknown query value: the header decides
        ("", "ko", "ko"),
    ],
)
def test_language_negotiation(query: str | None, header: str | None, expected: str) -> None:
    assert negotiate(query, header) == expected


async def test_share_page_in_korean(web: Web) -> None:
    analysis = await add_analysis(web.context, "beta")

    response = await web.client.get(
        f"/share/{analysis.id}", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"}
    )

    assert response.status_code == 200
    assert response.headers["content-language"] == "ko"
    page = response.text
    tags = meta_tags(page)
    assert '<html lang="ko">' in page
    assert tags["og:title"] == "AlphaMale 얼굴 유형: 베타"
    assert f"<title>{tags['og:title']}</title>" in page
    assert tags["og:description"] == tags["description"] == BETA_KO
    assert (tags["og:locale"], tags["og:locale:alternate"]) == ("ko_KR", "en_US")
    assert tags["og:image"] == f"{BASE}/share/{analysis.id}/card.png?lang=ko"
    assert tags["twitter:image"] == tags["og:image"]
    assert tags["og:url"] == f"{BASE}/share/{analysis.id}?lang=ko"
    assert tags["og:image:alt"] == "베타 결과 카드"
    assert "나는 <span>베타</span>형" in page
    for text in ("얼굴", "T존", "턱", "베타 · 40점", "알파 · 40점", "베타 · 8점", "점수 88점"):
        assert text in page
    assert html.escape(VERDICT["explanation_ko"]) in page
    assert html.escape(VERDICT["explanation"]) not in page
    assert "내 얼굴 유형 알아보기" in page
    created = analysis.created_at  # a public page says nothing of when it was made
    assert f"{created.year}년" not in page and "재미로 보는 결과입니다" in page
    assert 'href="?lang=en" hreflang="en" lang="en">English</a>' in page
    assert "Beta · 40 pts" not in page and "Find your own face type" not in page


async def test_query_lang_beats_the_header(web: Web) -> None:
    analysis = await add_analysis(web.context, "omega")
    korean = {"Accept-Language": "ko-KR,ko"}

    english = await web.client.get(f"/share/{analysis.id}?lang=en", headers=korean)
    default = await web.client.get(f"/share/{analysis.id}", headers=korean)

    assert english.headers["content-language"] == "en"
    assert meta_tags(english.text)["og:title"] == "I'm an Omega on AlphaMale"
    assert meta_tags(english.text)["og:image"].endswith("/card.png?lang=en")
    assert meta_tags(default.text)["og:title"] == "AlphaMale 얼굴 유형: 오메가"


async def test_images_follow_the_language(web: Web) -> None:
    """Korean images need a CJK font; without one they are the English images, never broken."""
    analysis = await add_analysis(web.context, "beta")
    cjk = font_path(False, cjk=True) is not None
    for image in ("card.png", "story.png"):
        english = await web.client.get(f"/share/{analysis.id}/{image}?lang=en")
        korean = await web.client.get(f"/share/{analysis.id}/{image}?lang=ko")
        by_header = await web.client.get(
            f"/share/{analysis.id}/{image}", headers={"Accept-Language": "ko"}
        )
        assert english.headers["content-language"] == "en"
        assert korean.headers["content-language"] == ("ko" if cjk else "en")
        assert (korean.content != english.content) is cjk
        assert by_header.content == korean.content
        assert decode_png(korean.content).size == decode_png(english.content).size


def test_korean_images_fall_back_to_english_without_a_cjk_font(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert image_lang("en") == "en"
    assert image_lang("ko") == ("ko" if font_path(False, cjk=True) else "en")
    monkeypatch.setattr(pages, "cjk_font_found", lambda: False)
    assert image_lang("ko") == "en"


async def test_story_is_a_1080x1920_png(web: Web) -> None:
    analysis = await add_analysis(web.context, "delta", opt_in=True)

    response = await web.client.get(f"/share/{analysis.id}/story.png?lang=ko")
    head = await web.client.head(f"/share/{analysis.id}/story.png?lang=ko")

    assert response.status_code == 200 and head.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "private, max-age=300"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == 'inline; filename="alphamale-delta-story.png"'
    assert decode_png(response.content).size == (1080, 1920)
    card = await web.client.get(f"/share/{analysis.id}/card.png")
    assert card.headers["content-disposition"] == 'inline; filename="alphamale-delta.png"'


async def test_result_permalink_serves_the_client(web: Web) -> None:
    analysis = await add_analysis(web.context, "beta")
    home = await web.client.get("/")
    for path in (f"/r/{analysis.id}", "/r/00000000-0000-4000-8000-000000000000"):
        response = await web.client.get(path)
        assert response.status_code == 200
        assert response.text == home.text
        for header in ("content-type", "content-security-policy", "cache-control"):
            assert response.headers[header] == home.headers[header]


async def test_favicon_manifest_and_icons(web: Web) -> None:
    svg = await web.client.get("/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg") and "#11131c" in svg.text
    ico = await web.client.get("/favicon.ico")
    assert ico.headers["content-type"] == "image/x-icon"
    assert Image.open(io.BytesIO(ico.content)).format == "ICO"
    assert "manifest-src 'self'" in (await web.client.get("/")).headers["content-security-policy"]

    response = await web.client.get("/manifest.webmanifest", headers={"Accept-Language": "ko"})
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.content)
    assert manifest["name"] == "AlphaMale" and manifest["short_name"]
    assert (manifest["start_url"], manifest["display"], manifest["lang"]) == (
        "/",
        "standalone",
        "ko",
    )
    assert manifest["background_color"] == manifest["theme_color"] == "#11131c"
    pngs = [icon for icon in manifest["icons"] if icon["type"] == "image/png"]
    assert {(icon["sizes"], icon["purpose"]) for icon in pngs} == {
        ("192x192", "any"),
        ("512x512", "any"),
        ("512x512", "maskable"),
    }
    for icon in pngs:
        answer = await web.client.get(icon["src"])
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
        side = int(icon["sizes"].split("x")[0])
        assert decode_png(answer.content).size == (side, side)
    assert (await web.client.get("/icons/nope.png")).status_code == 404


@pytest.mark.parametrize(
    ("slug", "photo_size", "regions"),
    [("alpha", (1600, 500), REGIONS), ("delta", (300, 1200), {}), ("unknown", None, {"jaw": {}})],
)
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_images_handle_odd_inputs(
    slug: str, photo_size: tuple[int, int] | None, regions: dict, lang: Lang
) -> None:
    photo = Image.new("RGB", photo_size, (10, 20, 30)) if photo_size else None
    face_type = FaceType(
        slug=slug, name="Extraordinarily-Long-Type-Name", description="word " * 400,
        description_ko="가나다라마바사아자차카타파하" * 40,
    )  # fmt: skip
    analysis = Analysis(face_type=face_type, regions=regions, score=None, verdict=None)
    content = card_content(analysis, lang, "alphamale.example")
    assert decode_png(render_card(content, photo)).size == (1200, 630)
    assert decode_png(render_story(content, photo)).size == (1080, 1920)
