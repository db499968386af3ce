"""The 1080x1920 (9:16) story image for Instagram and KakaoTalk stories: the card, stacked.

Top to bottom: the kicker, the photo cropped around the face (only with the person's opt-in) or
the type's emblem, the type name, its description, the score and the three region chips. Drawn
with the card's helpers (:mod:`gateway.web.card`).
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from gateway.web.card import (
    MUTED,
    CardContent,
    canvas,
    draw_chips,
    draw_lines,
    draw_panel,
    fit_text,
    font,
    png,
    type_colour,
)

STORY_WIDTH, STORY_HEIGHT = 1080, 1920
MARGIN = 80
STORY_PANEL = (MARGIN, 200, STORY_WIDTH - MARGIN, 940)


def render_story(content: CardContent, photo: Image.Image | None) -> bytes:
    """The story image as PNG bytes; ``photo`` only when the person opted in to sharing it."""
    story = canvas((STORY_WIDTH, STORY_HEIGHT), content.type_slug, 14)
    draw = ImageDraw.Draw(story)
    cjk, left, right = content.cjk, MARGIN, STORY_WIDTH - MARGIN
    colour = type_colour(content.type_slug)
    draw.text((left, 110), content.kicker, font=font(36, bold=True, cjk=cjk), fill=MUTED)
    draw_panel(story, STORY_PANEL, content, photo)
    name_font = fit_text(draw, content.type_name, right - left, range(190, 60, -10), cjk=cjk)
    draw.text((left - 8, 975), content.type_name, font=name_font, fill=colour)
    body = font(40, cjk=cjk)
    draw_lines(draw, content.description, (left, 1215), right - left, body, 56, 5)
    draw.text((left, 1535), content.score, font=font(52, bold=True, cjk=cjk), fill=colour)
    draw_chips(draw, content, left, right, 1650, scale=1.5)
    draw.text((left, 1840), content.footer, font=font(30, cjk=cjk), fill=MUTED)
    return png(story)
