"""A group's web routes: the invite link, its card and story images, a member's shared face.

``/g/{code}`` serves the client (which loads ``GET /v1/groups/{code}`` itself and routes to
the group's view) with the group's Open Graph tags for chat previews; an unknown code is the
client with a 404 status and no group in it. The images speak Korean or English
(``?lang=ko|en``, else ``Accept-Language``, else English). A member's photo appears only with
their opt-in to sharing it, and only as the face crop of the share card.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from PIL import Image

from gateway.deps import ContextDep
from gateway.errors import NotFound
from gateway.groups.deps import GroupServiceDep
from gateway.groups.service import GroupService, GroupView
from gateway.web.card import face_jpeg, load_photo, on_stored_photo
from gateway.web.group_card import (
    CARD_ROWS,
    STORY_ROWS,
    GroupContent,
    render_group_card,
    render_group_story,
)
from gateway.web.i18n import Lang, LangDep
from gateway.web.pages import group_client_page, group_content, image_lang, web_file
from gateway.web.rendered import etag_of, memoised_png
from gateway.web.router import (
    CLIENT_CSP,
    image_headers,
    localised,
    security_headers,
    shared_photo_bytes,
)

router = APIRouter(include_in_schema=False)

GroupRenderer = Callable[[GroupContent, Sequence[Image.Image | None]], bytes]


@router.api_route("/g/{code}", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def group_page(code: str, service: GroupServiceDep, lang: LangDep) -> HTMLResponse:
    """A group's invite link: the client, with the group's Open Graph tags."""
    view = await service.find(code)
    headers = localised(security_headers(CLIENT_CSP, "no-cache"), lang)
    if view is None:
        return HTMLResponse(web_file("index.html"), status_code=404, headers=headers)
    invite = service.links(code)["invite_url"]
    return HTMLResponse(
        group_client_page(web_file("index.html"), view, invite, lang), headers=headers
    )


def draw_group(render: GroupRenderer, content: GroupContent, photos: list[bytes | None]) -> bytes:
    return render(content, [load_photo(photo) if photo else None for photo in photos])


async def group_image(
    request: Request,
    context: ContextDep,
    service: GroupService,
    code: str,
    lang: Lang,
    render: GroupRenderer,
    rows: int,
    kind: str,
) -> Response:
    """A group's image drawn by ``render`` in ``lang`` (English when no CJK font is found),
    with the faces of the first ``rows`` members who opted in to sharing theirs, once per
    version (:mod:`gateway.web.rendered`)."""
    drawn = image_lang(lang)

    async def describe() -> tuple[str, Callable[[], Awaitable[bytes]]]:
        view: GroupView | None = await service.find(code)
        if view is None:
            raise NotFound("No group with that code.", hint="Check the invite link.")
        shown = view.members[:rows]
        site = urlsplit(context.settings.public_base_url).netloc
        content = group_content(view, drawn, site)
        keys = [m.analysis.object_key if m.analysis.share_opt_in else None for m in shown]

        async def draw() -> bytes:
            photos = await asyncio.gather(
                *(shared_photo_bytes(context.storage, member.analysis) for member in shown)
            )
            return await asyncio.to_thread(draw_group, render, content, list(photos))

        return etag_of(kind, drawn, content, keys), draw

    suffix = "" if kind == "card" else f"-{kind}"
    headers = localised(image_headers(f"alphamale-group{suffix}.png"), drawn)
    address = f"/g/{code}/{kind}?lang={drawn}"
    return await memoised_png(context, request, address, describe, headers)


@router.api_route("/g/{code}/card.png", methods=["GET", "HEAD"])
async def group_card(
    code: str, request: Request, context: ContextDep, service: GroupServiceDep, lang: LangDep
) -> Response:
    """The group's 1200x630 PNG card (the invite link's og:image)."""
    rows = CARD_ROWS.rows
    return await group_image(request, context, service, code, lang, render_group_card, rows, "card")


@router.api_route("/g/{code}/story.png", methods=["GET", "HEAD"])
async def group_story(
    code: str, request: Request, context: ContextDep, service: GroupServiceDep, lang: LangDep
) -> Response:
    """The group's 1080x1920 PNG story image."""
    rows = STORY_ROWS.rows
    return await group_image(
        request, context, service, code, lang, render_group_story, rows, "story"
    )


@router.get("/g/{code}/members/{member_id}/photo.jpg")
async def member_photo(
    code: str, member_id: str, context: ContextDep, service: GroupServiceDep
) -> Response:
    """A member's face as the share card crops it, only when they opted in to sharing it."""
    view = await service.find(code)
    members = view.members if view else ()
    member = next((m for m in members if m.member_id == member_id), None)
    photo = await shared_photo_bytes(context.storage, member.analysis) if member else None
    data = (
        await asyncio.to_thread(
            face_jpeg,
            photo,
            on_stored_photo(member.analysis.regions or {}, member.analysis.stored_scale),
        )
        if photo
        else b""
    )
    if not data:
        raise NotFound("No shared photo of that member in this group.")
    return Response(data, media_type="image/jpeg", headers=image_headers("face.jpg"))
