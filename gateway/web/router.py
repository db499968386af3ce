"""Web routes: the mobile web client, its icons and manifest, the share page and its images, and
the operators' catalog console (``/admin``: static files; every call it makes is to the admin API
with the token the operator types).

The client is static files served from here (no build step, nothing from a CDN); ``/r/{id}``
serves it too, so a result's permalink reloads into it. The share page, its 404 page, the
1200x630 card and the 1080x1920 story image speak Korean or English (``?lang=ko|en``, else
``Accept-Language``, else English; see :mod:`gateway.web.i18n`). The uploaded photo appears
only on the images, cropped around the face, and only when the person opted in to sharing it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from PIL import Image

from db.models import Analysis
from gateway.analyses.deps import AnalysisServiceDep
from gateway.analyses.service import AnalysisService
from gateway.clients.storage import Storage
from gateway.context import AppContext
from gateway.deps import ContextDep
from gateway.errors import AppError, NotFound
from gateway.web.card import CardContent, load_photo, render_card
from gateway.web.i18n import Lang, LangDep
from gateway.web.icons import FAVICON_SVG, ICONS, favicon_ico, icon_png, web_manifest
from gateway.web.pages import (
    WEB_DIR,
    card_content,
    image_lang,
    not_found_page,
    share_page,
    web_file,
)
from gateway.web.rendered import cached_png, etag_of
from gateway.web.story import render_story

router = APIRouter(include_in_schema=False)
log = logging.getLogger("alphamale.gateway.web")

PAGE_CACHE = "private, max-age=300"
ICON_CACHE = "public, max-age=86400"
CLIENT_CSP = (
    "default-src 'self'; img-src * data: blob:; connect-src 'self'; script-src 'self'; "
    "style-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
SHARE_CSP = (
    "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
JS, CSS = "text/javascript; charset=utf-8", "text/css; charset=utf-8"
ASSETS = {
    "app.js": JS,
    "groups.js": JS,
    "strings.js": JS,
    "styles.css": CSS,
    "admin.js": JS,
    "admin-strings.js": JS,
    "admin.css": CSS,
}

Renderer = Callable[[CardContent, Image.Image | None], bytes]


def image_headers(filename: str) -> dict[str, str]:
    return {
        "Cache-Control": PAGE_CACHE,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{filename}"',
    }


def security_headers(csp: str, cache: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": cache,
    }


def localised(headers: dict[str, str], lang: Lang) -> dict[str, str]:
    """``headers`` for an answer chosen by language (possibly from Accept-Language)."""
    return headers | {"Content-Language": lang, "Vary": "Accept-Language"}


# --- the mobile web client -------------------------------------------------------------------


def client_response() -> HTMLResponse:
    return HTMLResponse(web_file("index.html"), headers=security_headers(CLIENT_CSP, "no-cache"))


@router.get("/", response_class=HTMLResponse)
async def client_page() -> HTMLResponse:
    """The mobile web client (spec section 1)."""
    return client_response()


@router.get("/r/{analysis_id}", response_class=HTMLResponse)
async def result_page(analysis_id: str) -> HTMLResponse:
    """A result's permalink: the client, which loads ``GET /v1/analyses/{id}`` itself."""
    return client_response()


@router.get("/me", response_class=HTMLResponse)
async def my_results_page() -> HTMLResponse:
    """ "My results": the client, which lists what this device keeps itself."""
    return client_response()


@router.get("/admin", response_class=HTMLResponse)
async def console_page() -> HTMLResponse:
    """The operators' catalog console: the page is public, what it shows needs the admin token."""
    headers = security_headers(CLIENT_CSP, "no-cache") | {"X-Robots-Tag": "noindex"}
    return HTMLResponse(web_file("admin.html"), headers=headers)


@router.get("/static/{name}")
async def client_asset(name: str) -> Response:
    """The client's scripts and style sheet."""
    if name not in ASSETS or not (WEB_DIR / name).is_file():
        raise NotFound("No such file.")
    return Response(
        web_file(name), media_type=ASSETS[name], headers=security_headers(CLIENT_CSP, "no-cache")
    )


@router.get("/favicon.svg")
async def favicon_svg() -> Response:
    return Response(FAVICON_SVG, media_type="image/svg+xml", headers=icon_headers())


@router.get("/favicon.ico")
async def favicon() -> Response:
    data = await asyncio.to_thread(favicon_ico)
    return Response(data, media_type="image/x-icon", headers=icon_headers())


@router.get("/icons/{name}")
async def icon(name: str) -> Response:
    """The manifest's PNG icons (192 and 512 px, and a maskable 512 px)."""
    if name not in ICONS:
        raise NotFound("No such icon.")
    data = await asyncio.to_thread(icon_png, *ICONS[name])
    return Response(data, media_type="image/png", headers=icon_headers())


@router.get("/manifest.webmanifest")
async def manifest(lang: LangDep) -> JSONResponse:
    """The web app manifest (name, colours, icons; the description in the request's language)."""
    headers = localised({"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}, lang)
    return JSONResponse(web_manifest(lang), media_type="application/manifest+json", headers=headers)


def icon_headers() -> dict[str, str]:
    return {"Cache-Control": ICON_CACHE, "X-Content-Type-Options": "nosniff"}


# --- the share page and its images -----------------------------------------------------------


async def shared_analysis(service: AnalysisService, analysis_id: str) -> Analysis | None:
    """The analysis behind a share link, when it has a type to show."""
    analysis = await service.find(analysis_id)
    if analysis is None or analysis.face_type is None:
        return None
    return analysis


@router.api_route("/share/{analysis_id}", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def share(analysis_id: str, service: AnalysisServiceDep, lang: LangDep) -> HTMLResponse:
    """The result page a share link opens; chat apps read its Open Graph tags."""
    analysis = await shared_analysis(service, analysis_id)
    if analysis is None:
        headers = localised(security_headers(SHARE_CSP, "no-store"), lang)
        return HTMLResponse(not_found_page(lang), status_code=404, headers=headers)
    body = share_page(analysis, service.links(analysis.id), lang)
    return HTMLResponse(body, headers=localised(security_headers(SHARE_CSP, PAGE_CACHE), lang))


async def shared_photo_bytes(storage: Storage, analysis: Analysis) -> bytes | None:
    """The stored photo when the person opted in; None otherwise or when it cannot be read."""
    if not analysis.share_opt_in:
        return None
    try:
        return await storage.get(analysis.object_key)
    except AppError as exc:
        log.warning("image for %s without its photo: %s", analysis.id, exc.detail)
        return None


def draw_card(render: Renderer, content: CardContent, photo: bytes | None) -> bytes:
    return render(content, load_photo(photo) if photo else None)


async def shared_image(
    request: Request,
    context: AppContext,
    service: AnalysisService,
    analysis_id: str,
    lang: Lang,
    render: Renderer,
    kind: str,
) -> Response:
    """A result's image drawn by ``render`` in ``lang`` (English when no CJK font is found),
    once per version (:mod:`gateway.web.rendered`)."""
    analysis = await shared_analysis(service, analysis_id)
    if analysis is None:
        raise NotFound("No result with that id.")
    drawn = image_lang(lang)
    site = urlsplit(context.settings.public_base_url).netloc
    content = card_content(analysis, drawn, site)
    photo_key = analysis.object_key if analysis.share_opt_in else None
    etag = etag_of(kind, drawn, content, [photo_key])

    async def draw() -> bytes:
        photo = await shared_photo_bytes(context.storage, analysis)
        return await asyncio.to_thread(draw_card, render, content, photo)

    slug = analysis.face_type.slug if analysis.face_type else "result"
    suffix = "" if kind == "card" else f"-{kind}"
    headers = localised(image_headers(f"alphamale-{slug}{suffix}.png"), drawn)
    return await cached_png(context, request, etag, draw, headers)


@router.api_route("/share/{analysis_id}/card.png", methods=["GET", "HEAD"])
async def share_card(
    analysis_id: str,
    request: Request,
    context: ContextDep,
    service: AnalysisServiceDep,
    lang: LangDep,
) -> Response:
    """The 1200x630 PNG result card (the share page's og:image and the Save image download)."""
    return await shared_image(request, context, service, analysis_id, lang, render_card, "card")


@router.api_route("/share/{analysis_id}/story.png", methods=["GET", "HEAD"])
async def share_story(
    analysis_id: str,
    request: Request,
    context: ContextDep,
    service: AnalysisServiceDep,
    lang: LangDep,
) -> Response:
    """The 1080x1920 PNG story image (Instagram and KakaoTalk stories)."""
    return await shared_image(request, context, service, analysis_id, lang, render_story, "story")
