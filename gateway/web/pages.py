"""A shared result or group, worded in one language: the share page, the 404 page, a group's
invite page (the client with the group's Open Graph tags) and the images' words.

Pages are Jinja2 templates of gateway/web/templates, rendered with autoescape: every value goes
in as plain text and Jinja2 escapes it, in text and attributes alike. The photo never appears on
a page: with the person's opt-in it is drawn, cropped around the face, on the
card and story images only.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from core.taxonomy import PARTS, TYPE_COLOURS
from db.models import Analysis, GroupMember
from gateway.analyses.schemas import Links
from gateway.groups.service import GroupView
from gateway.web.card import CardContent, Chip, font_path, on_stored_photo
from gateway.web.group_card import GroupContent, MemberLine
from gateway.web.i18n import (
    GROUP_TEXTS,
    LOCALES,
    TEXTS,
    Lang,
    heading,
    other,
    part_label,
    pick,
    points,
    region_value,
    title,
    type_label,
)

log = logging.getLogger("alphamale.gateway.web")

WEB_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# One environment for every page: autoescape for .html, a missing value is an error (not an empty
# string), the templates' own line layout kept (block tags take their line with them).
TEMPLATES = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    auto_reload=False,
)


@lru_cache(maxsize=8)
def web_file(name: str) -> str:
    """A file of gateway/web/static, read once."""
    return (WEB_DIR / name).read_text(encoding="utf-8")


def render(template: str, values: dict[str, Any]) -> str:
    """A page of gateway/web/templates with ``values`` as plain text (Jinja2 escapes them)."""
    return TEMPLATES.get_template(template).render(values)


def with_lang(url: str, lang: Lang) -> str:
    return f"{url}?lang={lang}"


@lru_cache(maxsize=1)
def cjk_font_found() -> bool:
    """Whether a CJK font is installed; says once in the log when it is not."""
    if font_path(False, cjk=True):
        return True
    log.warning("no CJK font (e.g. fonts-nanum) found: Korean images are drawn in English")
    return False


def image_lang(lang: Lang) -> Lang:
    """The language the images can be drawn in: Korean needs a CJK font, else English."""
    return lang if lang != "ko" or cjk_font_found() else "en"


def explanation(analysis: Analysis, lang: Lang) -> str:
    """The verdict's arithmetic in words; empty for rows stored before verdicts."""
    verdict = analysis.verdict or {}
    return pick(lang, str(verdict.get("explanation") or ""), verdict.get("explanation_ko"))


def share_page(analysis: Analysis, links: Links, lang: Lang) -> str:
    """The share page of a typed analysis in ``lang``."""
    content, texts, switch = card_content(analysis, lang), TEXTS[lang], other(lang)
    before, after = heading(content.type_name, lang)
    values: dict[str, Any] = {
        "lang": lang,
        "og_title": title(content.type_name, lang),
        "description": content.description,
        "locale": LOCALES[lang],
        "locale_alternate": LOCALES[switch],
        "card_url": with_lang(links.card, lang),
        "card_alt": texts.card_alt.format(name=content.type_name),
        "share_url": with_lang(links.share, lang),
        "home_url": "/",
        "switch_url": f"?lang={switch}",
        "switch_lang": switch,
        "switch_label": TEXTS[switch].switch_label,
        "colour": TYPE_COLOURS.get(content.type_slug, "#c8c8d2"),  # type: ignore[call-overload]
        "heading_before": before,
        "heading_after": after,
        "type_name": content.type_name,
        "regions_label": texts.regions_label,
        "chips": content.chips,  # one list item each: part, type, the points it adds
        "score": content.score,
        "explanation": explanation(analysis, lang),
        "cta": texts.cta,
        "note": texts.disclaimer,  # no date: a public page says nothing of when
    }
    return render("share.html", values)


def not_found_page(lang: Lang) -> str:
    """The share link's 404 page in ``lang``."""
    texts = TEXTS[lang]
    values = {
        "lang": lang,
        "title": texts.not_found_title,
        "message": texts.not_found_message,
        "cta": texts.cta,
    }
    return render("not_found.html", values)


def card_content(analysis: Analysis, lang: Lang, site: str = "") -> CardContent:
    """The words of a typed analysis' card and story in ``lang`` (see :func:`image_lang`);
    ``site`` (the public host) goes in the story's footer."""
    assert analysis.face_type is not None
    face_type, texts = analysis.face_type, TEXTS[lang]
    regions = analysis.regions or {}
    chips = tuple(
        Chip(part, part_label(part, lang), region_value(regions.get(part) or {}, lang))
        for part in PARTS
    )
    return CardContent(
        type_slug=face_type.slug,
        type_name=type_label(face_type.slug, lang, face_type.name),
        description=pick(lang, face_type.description, face_type.description_ko),
        kicker=texts.kicker,
        score=texts.score.format(score=analysis.score) if analysis.score is not None else "",
        chips=chips,
        regions=on_stored_photo(regions, analysis.stored_scale),
        footer=f"{site} · {texts.cta}" if site else texts.cta,
        cjk=lang == "ko",
    )


# --- groups ----------------------------------------------------------------------------------


def host_nickname(view: GroupView) -> str:
    """Whose group the invite is: the owner's nickname, else the first member's."""
    owner = view.group.owner_analysis_id
    hosts = [m for m in view.members if m.analysis_id == owner] or list(view.members)
    return hosts[0].nickname if hosts else ""


def group_client_page(index_html: str, view: GroupView, invite_url: str, lang: Lang) -> str:
    """The client's page with the group's Open Graph tags (for chat previews) in its head."""
    texts, switch = GROUP_TEXTS[lang], other(lang)
    values = {
        "og_title": texts.og_title.format(name=host_nickname(view)),
        "description": texts.og_description.format(count=len(view.members)),
        "locale": LOCALES[lang],
        "locale_alternate": LOCALES[switch],
        "card_url": with_lang(f"{invite_url}/card.png", lang),
        "card_alt": texts.card_alt,
        "invite_url": with_lang(invite_url, lang),
    }
    return index_html.replace("</head>", render("group_head.html", values) + "</head>", 1)


def member_line(member: GroupMember, rank: int, lang: Lang) -> MemberLine:
    """One member (with its result and type) on the group's images."""
    analysis = member.analysis
    assert analysis.face_type is not None
    regions = analysis.regions or {}
    slug = analysis.face_type.slug
    return MemberLine(
        rank=rank,
        nickname=member.nickname,
        type_slug=slug,
        type_name=type_label(slug, lang, analysis.face_type.name),
        score=points(analysis.score, lang),
        parts=tuple(str((regions.get(part) or {}).get("type") or "") for part in PARTS),
        regions=on_stored_photo(regions, analysis.stored_scale),
    )


def group_content(view: GroupView, lang: Lang, site: str = "") -> GroupContent:
    """The words of a group's card and story in ``lang`` (see :func:`image_lang`)."""
    texts = GROUP_TEXTS[lang]
    lines = tuple(
        member_line(member, rank, lang)
        for member, rank in zip(view.members, view.ranks, strict=True)
    )
    return GroupContent(
        kicker=texts.kicker,
        title=texts.title,
        subtitle=texts.members.format(count=len(lines)),
        legend=" · ".join(part_label(part, lang) for part in PARTS),
        members=lines,
        more=texts.more,
        closed=texts.closed if view.group.closed else "",
        invite=texts.invite,
        footer=f"{site} · {texts.cta}" if site else texts.cta,
        cjk=lang == "ko",
    )
