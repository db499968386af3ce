"""The share page and the 404 page (Jinja2, autoescape): hostile values come out as text, never as
markup, in element text and attribute values alike, in Korean and English; the Open Graph tags
stay. Plain ORM objects, no database."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from db.models import Analysis, FaceType
from gateway.analyses.schemas import Links
from gateway.web.card import font_path
from gateway.web.i18n import LANGS, TEXTS, Lang
from gateway.web.pages import TEMPLATES, cjk_font_found, image_lang, not_found_page, share_page

EVIL = '<script>alert(1)</script> Tom & "Jerry" \'s'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; Tom &amp; &#34;Jerry&#34; &#39;s"
BASE = "https://alphamale.example/share/abc"
OPEN_GRAPH = (
    "og:type", "og:site_name", "og:locale", "og:locale:alternate", "og:title", "og:description",
    "og:image", "og:image:type", "og:image:width", "og:image:height", "og:image:alt", "og:url",
    "twitter:card", "twitter:title", "twitter:description", "twitter:image", "twitter:image:alt",
    "description", "viewport", "robots", "referrer",
)  # fmt: skip


class Page(HTMLParser):
    """Every start tag with its attributes, and the text, both unescaped by the parser."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def meta(self) -> dict[str, str]:
        """``<meta property|name=... content=...>`` as a dict."""
        return {
            str(attrs.get("property") or attrs.get("name")): attrs.get("content") or ""
            for tag, attrs in self.tags
            if tag == "meta" and (attrs.get("property") or attrs.get("name"))
        }


def analysis(name: str = EVIL, description: str = EVIL, explanation: str = EVIL) -> Analysis:
    face_type = FaceType(
        id=2, slug="beta", name=name, rank=2, description=description, description_ko=description
    )
    return Analysis(
        id="abc",
        created_at=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
        face_type=face_type,
        score=88,
        regions={
            "face": {"type": "beta", "points": 40},
            "t_zone": {"type": "alpha", "points": 40},
            "jaw": {"type": "beta", "points": 8},
        },
        verdict={"explanation": explanation, "explanation_ko": explanation},
    )


LINKS = Links(
    self="https://alphamale.example/v1/analyses/abc",
    share=BASE,
    card=f"{BASE}/card.png",
    delete="https://alphamale.example/v1/analyses/abc",
)


def assert_no_raw_markup(page: str) -> None:
    assert "<script" not in page and "</script" not in page
    assert '"Jerry"' not in page and "'s" not in page and "& " not in page


@pytest.mark.parametrize("lang", LANGS)
def test_share_page_escapes_hostile_values(lang: Lang) -> None:
    page = share_page(analysis(), LINKS, lang)

    assert_no_raw_markup(page)
    assert ESCAPED in page
    meta = Page(page).meta()
    # the description is the stored text whatever the language (description_ko is EVIL too)
    for key in ("description", "og:description", "twitter:description"):
        assert meta[key] == EVIL
    escaped_attr = f'content="{ESCAPED}"'
    assert f'<meta property="og:description" {escaped_attr}>' in page
    assert f'<meta name="description" {escaped_attr}>' in page
    assert f'<p class="description">{ESCAPED}</p>' in page
    assert f"<strong>{TEXTS[lang].score.format(score=88)}</strong> {ESCAPED}</p>" in page


def test_share_page_escapes_the_type_name_in_english() -> None:
    """The stored English name is shown in English (Korean uses the fixed Korean name)."""
    page = share_page(analysis(name=EVIL, description="plain"), LINKS, "en")

    assert_no_raw_markup(page)
    meta = Page(page).meta()
    assert meta["og:title"] == meta["twitter:title"] == f"I'm a {EVIL} on AlphaMale"
    assert meta["og:image:alt"] == meta["twitter:image:alt"] == f"{EVIL} result card"
    assert f'<meta property="og:image:alt" content="{ESCAPED} result card">' in page
    assert f"<title>I&#39;m a {ESCAPED} on AlphaMale</title>" in page
    assert f"<h1>I&#39;m a <span>{ESCAPED}</span></h1>" in page
    assert f'alt="{ESCAPED} result card"' in page


def test_share_page_in_korean_uses_the_korean_type_name() -> None:
    page = share_page(analysis(name=EVIL, description="plain"), LINKS, "ko")

    assert_no_raw_markup(page)
    meta = Page(page).meta()
    assert meta["og:title"] == "AlphaMale 얼굴 유형: 베타"
    assert meta["og:image:alt"] == "베타 결과 카드"
    assert "<h1>나는 <span>베타</span>형</h1>" in page


@pytest.mark.parametrize("lang", LANGS)
def test_share_page_keeps_its_open_graph_tags(lang: Lang) -> None:
    page = share_page(analysis(name="Beta", description="Calm.", explanation="88"), LINKS, lang)
    parsed = Page(page)
    meta = parsed.meta()

    assert set(OPEN_GRAPH) <= set(meta)
    locales = {"en": ("en_US", "ko_KR"), "ko": ("ko_KR", "en_US")}[lang]
    assert (meta["og:locale"], meta["og:locale:alternate"]) == locales
    assert meta["og:type"] == "website" and meta["og:site_name"] == "AlphaMale"
    assert meta["og:image"] == meta["twitter:image"] == f"{BASE}/card.png?lang={lang}"
    assert meta["og:url"] == f"{BASE}?lang={lang}"
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "630")
    assert meta["og:image:type"] == "image/png"
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["og:title"] == meta["twitter:title"]
    assert f"<title>{meta['og:title'].replace(chr(39), '&#39;')}</title>" in page
    assert page.startswith(f'<!doctype html>\n<html lang="{lang}">\n')
    assert page.endswith("</html>\n")
    links = {attrs.get("rel"): attrs.get("href") for tag, attrs in parsed.tags if tag == "link"}
    assert links["canonical"] == f"{BASE}?lang={lang}"
    # the three regions, one list item each, worded in the page's language
    items = re.findall(r'^    <li><span class="part">[^<]+</span><span class="value">', page, re.M)
    assert len(items) == 3
    assert ("Beta · 40 pts" if lang == "en" else "베타 · 40점") in page
    other = "ko" if lang == "en" else "en"
    assert f'href="?lang={other}" hreflang="{other}" lang="{other}"' in page
    assert "--accent: #" in page  # the type's colour, as is in the style sheet


@pytest.mark.parametrize("lang", LANGS)
def test_not_found_page(lang: Lang) -> None:
    page = not_found_page(lang)
    texts = TEXTS[lang]

    assert page.startswith(f'<!doctype html>\n<html lang="{lang}">\n')
    assert f"<title>{texts.not_found_title} · AlphaMale</title>" in page
    assert f"<h1>{texts.not_found_title}</h1>" in page
    assert f"<p>{texts.not_found_message}</p>" in page
    assert f'<p><a href="/">{texts.cta}</a></p>' in page


@pytest.mark.parametrize("lang", LANGS)
def test_not_found_template_escapes_hostile_values(lang: Lang) -> None:
    """The 404 page's fixed strings are ours; its template escapes whatever it is given."""
    page = TEMPLATES.get_template("not_found.html").render(
        lang=lang, title=EVIL, message=EVIL, cta=EVIL
    )

    assert_no_raw_markup(page)
    assert f"<title>{ESCAPED} · AlphaMale</title>" in page
    assert f"<h1>{ESCAPED}</h1>" in page and f"<p>{ESCAPED}</p>" in page


def test_a_missing_value_is_an_error_not_an_empty_string() -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        TEMPLATES.get_template("not_found.html").render(lang="en", title="t", message="m")


def test_a_korean_font_is_found_where_every_test_must_run() -> None:
    """Without a CJK font the Korean cards and stories are drawn in English, and the tests of
    them accept that: under CI the font must be there (fonts-nanum, as the gateway's image
    installs), so that those tests draw Korean."""
    fonts = {bold: font_path(bold, cjk=True) for bold in (False, True)}
    if os.environ.get("CI"):
        assert all(fonts.values()), (
            f"no Korean font under CI ({fonts}): apt-get install fonts-nanum"
        )
    elif not all(fonts.values()):
        pytest.skip("no Korean font here (apt-get install fonts-nanum): Korean images in English")
    assert cjk_font_found() and image_lang("ko") == "ko"
