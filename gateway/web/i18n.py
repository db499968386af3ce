"""Languages of the server-rendered pages and images: Korean first, English second.

:func:`negotiate` picks "ko" or "en" (the ``lang`` query parameter, then ``Accept-Language``,
then English); :data:`TEXTS` holds every fixed string in both, and the helpers below word the
variable parts (type and part names, points, dates) the same way on the page and the images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from fastapi import Depends, Request

from core.taxonomy import PART_NAMES, PART_NAMES_KO, TYPE_NAMES_KO, type_name

Lang = Literal["ko", "en"]
LANGS: tuple[Lang, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "en"
LOCALES: dict[Lang, str] = {"ko": "ko_KR", "en": "en_US"}


def primary(tag: str) -> str:
    """A language tag's primary subtag, lower case ("ko-KR" -> "ko")."""
    return tag.strip().split("-")[0].split("_")[0].lower()


def quality(param: str) -> float:
    """The q-value of one Accept-Language parameter list ("q=0.8" -> 0.8); 1 when absent."""
    for item in param.split(";"):
        key, _, value = item.strip().partition("=")
        if key.lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def from_accept_language(header: str) -> Lang | None:
    """The supported language the header prefers most (ties: the one listed first), if any."""
    ranked: list[tuple[float, int, Lang]] = []
    for position, entry in enumerate(header.split(",")):
        tag, _, params = entry.partition(";")
        lang, q = primary(tag), quality(params)
        if lang in LANGS and q > 0:
            ranked.append((-q, position, lang))  # type: ignore[arg-type]
    return min(ranked)[2] if ranked else None


def negotiate(query: str | None, accept_language: str | None) -> Lang:
    """``lang`` query value first ("ko", "ko-KR", "en"), then the header, then English."""
    if query and (lang := primary(query)) in LANGS:
        return lang  # type: ignore[return-value]
    return from_accept_language(accept_language or "") or DEFAULT_LANG


def request_lang(request: Request) -> Lang:
    """The language of this request's page or image."""
    return negotiate(request.query_params.get("lang"), request.headers.get("accept-language"))


LangDep = Annotated[Lang, Depends(request_lang)]


@dataclass(frozen=True)
class Texts:
    """The fixed strings of the share page, the 404 page and the images, in one language."""

    switch_label: str  # the name of this language, on the other language's switch link
    app_description: str  # the web manifest's
    title_template: str  # the page title and og:title; {name} is the type's name
    heading_before: str  # the share page's heading around the highlighted type name
    heading_after: str
    card_alt: str
    regions_label: str
    cta: str
    disclaimer: str
    score: str  # {score}
    kicker: str  # the small line above the type name on the images
    not_found_title: str
    not_found_message: str


TEXTS: dict[Lang, Texts] = {
    "en": Texts(
        switch_label="English",
        app_description="Take a selfie and find out which of five face types you are.",
        title_template="I'm {article} {name} on AlphaMale",
        heading_before="I'm {article} ",
        heading_after="",
        card_alt="{name} result card",
        regions_label="Detail by face region",
        cta="Find your own face type",
        disclaimer=(
            "For entertainment: the type comes from a small model trained on public ratings "
            "of studio photos, not a judgement of worth."
        ),
        score="Score {score}",
        kicker="ALPHAMALE · FACE TYPE",
        not_found_title="Result not found",
        not_found_message="This link is wrong, or the result was deleted or has expired.",
    ),
    "ko": Texts(
        switch_label="한국어",
        app_description="셀카 한 장으로 다섯 가지 얼굴 유형 중 나의 유형을 알아보세요.",
        title_template="AlphaMale 얼굴 유형: {name}",
        heading_before="나는 ",
        heading_after="형",
        card_alt="{name} 결과 카드",
        regions_label="부위별 결과",
        cta="내 얼굴 유형 알아보기",
        disclaimer=(
            "재미로 보는 결과입니다. 유형은 스튜디오 사진에 대한 공개 평가로 "
            "학습한 작은 모델이 정한 것이며, 사람의 가치를 판단하지 않습니다."
        ),
        score="점수 {score}점",
        kicker="ALPHAMALE · 얼굴 유형",
        not_found_title="결과를 찾을 수 없습니다",
        not_found_message="링크가 잘못되었거나, 결과가 삭제되었거나 만료되었습니다.",
    ),
}


@dataclass(frozen=True)
class GroupTexts:
    """The fixed strings of a group's page tags and images, in one language."""

    kicker: str  # the small line above the title on the images
    title: str  # the images' title
    members: str  # {count}: the members, under the title
    og_title: str  # {name}: the owner's nickname (the first member's once the owner left)
    og_description: str  # {count}
    card_alt: str
    more: str  # {count}: members the image has no room for
    closed: str
    invite: str  # the empty seat under the members
    cta: str  # the story's last line


GROUP_TEXTS: dict[Lang, GroupTexts] = {
    "en": GroupTexts(
        kicker="ALPHAMALE · COMPARE WITH FRIENDS",
        title="Face types, side by side",
        members="{count} in the group · by score",
        og_title="Compare face types with {name}",
        og_description=(
            "{count} in the group so far. Find your face type, join, and see how you compare, "
            "region by region."
        ),
        card_alt="The group's face types side by side",
        more="+{count} more",
        closed="Closed",
        invite="Your face type here? Take the test and join",
        cta="Find your type and compare",
    ),
    "ko": GroupTexts(
        kicker="ALPHAMALE · 친구와 비교",
        title="얼굴 유형 나란히 보기",
        members="{count}명 참여 · 점수순",
        og_title="{name}님과 얼굴 유형 비교하기",
        og_description=(
            "지금 {count}명이 참여했어요. 내 얼굴 유형을 알아보고 참여해서 부위별로 비교해 보세요."
        ),
        card_alt="그룹의 얼굴 유형 비교",
        more="외 {count}명",
        closed="마감",
        invite="여기에 내 유형을? 테스트하고 참여하기",
        cta="내 유형 알아보고 비교하기",
    ),
}


def other(lang: Lang) -> Lang:
    """The language the switch link offers."""
    return "en" if lang == "ko" else "ko"


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def type_label(slug: str, lang: Lang, name: str | None = None) -> str:
    """A type's display name ("Beta" / "베타"); ``name`` is the stored English name, if any."""
    if lang == "ko" and slug in TYPE_NAMES_KO:
        return TYPE_NAMES_KO[slug]  # type: ignore[index]
    return name or type_name(slug)


def title(name: str, lang: Lang) -> str:
    """The page title and og:title ("I'm a Beta on AlphaMale" / "AlphaMale 얼굴 유형: 베타")."""
    return TEXTS[lang].title_template.format(article=article(name), name=name)


def heading(name: str, lang: Lang) -> tuple[str, str]:
    """The share heading's text before and after the highlighted type name."""
    texts = TEXTS[lang]
    return texts.heading_before.format(article=article(name)), texts.heading_after


def part_label(part: str, lang: Lang) -> str:
    """A face part's label ("Face", "T-zone", "Jaw" / "얼굴", "T존", "턱")."""
    if lang == "ko":
        return PART_NAMES_KO.get(part, part)  # type: ignore[call-overload]
    label: str = PART_NAMES.get(part, part)  # type: ignore[call-overload]
    return label[:1].upper() + label[1:]


def points(value: Any, lang: Lang) -> str:
    """A region's points ("40 pts" / "40점"), or a dash for rows stored before regions had them."""
    if not isinstance(value, int):
        return "–"
    return f"{value}점" if lang == "ko" else f"{value} pts"


def region_value(region: dict[str, Any], lang: Lang) -> str:
    """A region's type and points ("Beta · 40 pts" / "베타 · 40점"); a dash when not found."""
    slug = region.get("type")
    if not (isinstance(slug, str) and slug):
        return "–"
    return f"{type_label(slug, lang)} · {points(region.get('points'), lang)}"


def pick(lang: Lang, english: str, korean: str | None) -> str:
    """The Korean text for "ko" when there is one, else the English."""
    return korean if lang == "ko" and korean else english
