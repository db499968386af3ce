"""A group's 1200x630 card and 1080x1920 story, drawn with Pillow: pure, no I/O but fonts.

One row per member, by score: rank, avatar, nickname, type, the three regions' types and the
score. The avatar is the member's face cropped as the share card crops it (only when they opted
in to sharing their photo) or else the type's emblem. Nicknames are drawn as text with a font
that has Hangul when one is installed, whatever the language of the other words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from core.taxonomy import TYPE_LETTERS
from gateway.web.card import (
    BACKGROUND,
    CHIP,
    INK,
    MUTED,
    Font,
    canvas,
    face_crop,
    fit_text,
    font,
    font_path,
    png,
    type_colour,
)
from gateway.web.story import STORY_HEIGHT, STORY_WIDTH

CARD_WIDTH, CARD_HEIGHT = 1200, 630


@dataclass(frozen=True)
class MemberLine:
    """One member on the images, worded."""

    rank: int
    nickname: str
    type_slug: str
    type_name: str
    score: str
    parts: tuple[str, ...]  # each region's type slug, face, T-zone, jaw ("" when unknown)
    regions: dict[str, Any]  # the stored regions, for the face crop


@dataclass(frozen=True)
class GroupContent:
    """What the group's card and story show, already worded in one language."""

    kicker: str
    title: str
    subtitle: str
    legend: str  # what the three discs are: "Face · T-zone · Jaw"
    members: tuple[MemberLine, ...]  # every member, by score
    more: str  # "+{count} more", filled in for the members left out
    closed: str  # "" while the group is open
    invite: str  # the empty seat under the members, while the group is open and has room
    footer: str
    cjk: bool = False


@dataclass(frozen=True)
class Layout:
    """Where one image's rows go, in its pixels."""

    left: int
    right: int
    top: int
    pitch: int  # from one row's top to the next one's
    height: int
    rows: int  # at most this many members
    text: int  # the nickname's size; rank and score follow it
    avatar: int  # the avatar's side
    type_x: int | None  # the type's column; None: under the nickname
    parts_x: int  # the first region disc's left
    part: int  # a region disc's side


CARD_ROWS = Layout(40, 1160, 196, 84, 74, 5, 30, 58, 560, 790, 32)
STORY_ROWS = Layout(70, 1010, 360, 134, 118, 10, 42, 94, None, 590, 46)


def ellipsized(draw: ImageDraw.ImageDraw, text: str, face: Font, width: int) -> str:
    """``text``, cut with an ellipsis to fit ``width`` px."""
    if draw.textlength(text, font=face) <= width:
        return text
    while text and draw.textlength(text + "…", font=face) > width:
        text = text[:-1]
    return text + "…"


def letter(slug: str) -> str:
    """A type's Greek letter (Latin initial without a font that has Greek)."""
    greek = TYPE_LETTERS.get(slug, "") if font_path(True) else ""  # type: ignore[call-overload]
    return greek or (slug[:1].upper() or "?")


def draw_avatar(
    image: Image.Image, xy: tuple[int, int], side: int, line: MemberLine, photo: Image.Image | None
) -> None:
    """A round avatar: the face crop (with the member's opt-in) or the type's emblem."""
    x, y = xy
    if photo is not None:
        shown, _ = face_crop(photo, line.regions, (side, side))
        mask = Image.new("L", (side, side), 0)
        ImageDraw.Draw(mask).ellipse((0, 0, side - 1, side - 1), fill=255)
        image.paste(shown, (x, y), mask)
        return
    draw = ImageDraw.Draw(image)
    draw.ellipse((x, y, x + side, y + side), fill=type_colour(line.type_slug))
    face = font(round(side * 0.55), bold=True)
    centre = (x + side / 2, y + side / 2)
    draw.text(centre, letter(line.type_slug), font=face, fill=BACKGROUND, anchor="mm")


def draw_parts(draw: ImageDraw.ImageDraw, line: MemberLine, x: int, y: int, side: int) -> None:
    """The three regions' types as small discs in their colours, face to jaw."""
    face = font(round(side * 0.6), bold=True)
    for index, slug in enumerate(line.parts):
        left = x + index * round(side * 1.25)
        disc = (left, y, left + side, y + side)
        if not slug:
            draw.ellipse(disc, outline=MUTED, width=2)
            continue
        draw.ellipse(disc, fill=type_colour(slug))
        centre = (left + side / 2, y + side / 2)
        draw.text(centre, letter(slug), font=face, fill=BACKGROUND, anchor="mm")


def draw_row(
    image: Image.Image,
    layout: Layout,
    top: int,
    line: MemberLine,
    photo: Image.Image | None,
    cjk: bool,
) -> None:
    """One member: rank, avatar, nickname (its type beside it, or under it), regions, score."""
    draw = ImageDraw.Draw(image)
    size, middle = layout.text, top + layout.height / 2
    draw.rounded_rectangle(
        (layout.left, top, layout.right, top + layout.height), layout.height // 4, fill=CHIP
    )
    draw.text(
        (layout.left + size, middle),
        str(line.rank),
        font=font(size, bold=True),
        fill=MUTED,
        anchor="mm",
    )
    avatar_x = layout.left + 2 * size
    draw_avatar(image, (avatar_x, round(middle - layout.avatar / 2)), layout.avatar, line, photo)
    name_x = avatar_x + layout.avatar + round(size * 0.6)
    name_font = font(size, bold=True, cjk=True)  # a nickname may be Hangul in any language
    type_font = font(round(size * 0.85), bold=True, cjk=cjk)
    colour = type_colour(line.type_slug)
    name_end = (layout.type_x or layout.parts_x) - 20
    nickname = ellipsized(draw, line.nickname, name_font, name_end - name_x)
    if layout.type_x is None:
        draw.text((name_x, middle - 4), nickname, font=name_font, fill=INK, anchor="ls")
        draw.text((name_x, middle + 6), line.type_name, font=type_font, fill=colour, anchor="lt")
    else:
        draw.text((name_x, middle), nickname, font=name_font, fill=INK, anchor="lm")
        draw.text((layout.type_x, middle), line.type_name, font=type_font, fill=colour, anchor="lm")
    draw_parts(draw, line, layout.parts_x, round(middle - layout.part / 2), layout.part)
    score_font = font(round(size * 1.05), bold=True, cjk=cjk)
    draw.text(
        (layout.right - round(size * 0.8), middle),
        line.score,
        font=score_font,
        fill=INK,
        anchor="rm",
    )


def draw_seat(image: Image.Image, layout: Layout, top: int, content: GroupContent) -> None:
    """An empty seat after the members: an outlined row asking the reader to join."""
    draw = ImageDraw.Draw(image)
    size, middle = layout.text, top + layout.height / 2
    box = (layout.left, top, layout.right, top + layout.height)
    draw.rounded_rectangle(box, layout.height // 4, outline=MUTED, width=2)
    avatar_x, side = layout.left + 2 * size, layout.avatar
    avatar_top = round(middle - side / 2)
    draw.ellipse((avatar_x, avatar_top, avatar_x + side, avatar_top + side), outline=MUTED, width=3)
    plus = font(round(side * 0.6), bold=True)
    draw.text((avatar_x + side / 2, middle), "+", font=plus, fill=MUTED, anchor="mm")
    name_x = avatar_x + side + round(size * 0.6)
    width = layout.right - name_x - size
    words = fit_text(draw, content.invite, width, range(size, 18, -2), cjk=content.cjk)
    text = ellipsized(draw, content.invite, words, width)
    draw.text((name_x, middle), text, font=words, fill=MUTED, anchor="lm")


def draw_rows(
    image: Image.Image, layout: Layout, content: GroupContent, photos: Sequence[Image.Image | None]
) -> str:
    """The first members' rows; the "more" line for those left out ("" when none is)."""
    shown = content.members[: layout.rows]
    for index, line in enumerate(shown):
        photo = photos[index] if index < len(photos) else None
        draw_row(image, layout, layout.top + index * layout.pitch, line, photo, content.cjk)
    if len(shown) < layout.rows and not content.closed:
        draw_seat(image, layout, layout.top + len(shown) * layout.pitch, content)
    left_out = len(content.members) - len(shown)
    return content.more.format(count=left_out) if left_out else ""


def group_canvas(size: tuple[int, int], content: GroupContent, bar: int) -> Image.Image:
    """The background, in the colour of the leader's type along the top."""
    lead = content.members[0].type_slug if content.members else ""
    return canvas(size, lead, bar)


def render_group_card(content: GroupContent, photos: Sequence[Image.Image | None]) -> bytes:
    """The group's card as PNG bytes; ``photos`` by member, None where not shared."""
    card = group_canvas((CARD_WIDTH, CARD_HEIGHT), content, 10)
    draw = ImageDraw.Draw(card)
    cjk, right = content.cjk, CARD_ROWS.right
    draw.text((60, 40), content.kicker, font=font(22, bold=True, cjk=cjk), fill=MUTED)
    title_font = fit_text(draw, content.title, 760, range(52, 28, -4), cjk=cjk)
    draw.text((58, 72), content.title, font=title_font, fill=INK)
    small = font(26, cjk=cjk)
    draw.text((60, 150), content.subtitle, font=small, fill=MUTED, anchor="lm")
    draw.text(
        (CARD_ROWS.parts_x, 180), content.legend, font=font(18, cjk=cjk), fill=MUTED, anchor="ls"
    )
    if content.closed:
        draw.text(
            (right, 52), content.closed, font=font(26, bold=True, cjk=cjk), fill=MUTED, anchor="rm"
        )
    more = draw_rows(card, CARD_ROWS, content, photos)
    draw.text((right, 150), more, font=font(26, bold=True, cjk=cjk), fill=MUTED, anchor="rm")
    return png(card)


def render_group_story(content: GroupContent, photos: Sequence[Image.Image | None]) -> bytes:
    """The group's story image as PNG bytes; ``photos`` by member, None where not shared."""
    story = group_canvas((STORY_WIDTH, STORY_HEIGHT), content, 14)
    draw = ImageDraw.Draw(story)
    cjk, left, right = content.cjk, 80, STORY_WIDTH - 80
    draw.text((left, 110), content.kicker, font=font(34, bold=True, cjk=cjk), fill=MUTED)
    if content.closed:
        draw.text(
            (right, 110), content.closed, font=font(34, bold=True, cjk=cjk), fill=MUTED, anchor="ra"
        )
    title_font = fit_text(draw, content.title, right - left, range(80, 40, -4), cjk=cjk)
    draw.text((left - 4, 160), content.title, font=title_font, fill=INK)
    draw.text((left, 290), content.subtitle, font=font(38, cjk=cjk), fill=MUTED, anchor="lm")
    legend_font = font(26, cjk=cjk)
    draw.text((STORY_ROWS.parts_x, 344), content.legend, font=legend_font, fill=MUTED, anchor="ls")
    more = draw_rows(story, STORY_ROWS, content, photos)
    draw.text((left, 1760), more, font=font(38, bold=True, cjk=cjk), fill=MUTED, anchor="lm")
    draw.text((left, 1840), content.footer, font=font(30, cjk=cjk), fill=MUTED)
    return png(story)
