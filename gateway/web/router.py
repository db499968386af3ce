"""Web pages: the mobile web client, the share page and its result card.

The client is three static files served from here (no build step, nothing from a CDN). The
share page is a small escaped string template with Open Graph tags; the uploaded photo appears
on it, and on the card, only when the person opted in to sharing it.
"""

from __future__ import annotations

import asyncio
import html
import logging
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from core.taxonomy import TYPE_COLOURS
from db.models import Analysis
from gateway.analyses.service import AnalysisService
from gateway.clients.storage import Storage
from gateway.config import Settings
from gateway.deps import AnalysisServiceDep
from gateway.errors import AppError, NotFound
from gateway.web.card import PARTS, load_photo, points, render_card

router = APIRouter(include_in_schema=False)
log = logging.getLogger("alphamale.gateway.web")

WEB_DIR = Path(__file__).resolve().parent / "static"
PAGE_CACHE = "private, max-age=300"
CLIENT_CSP = (
    "default-src 'self'; img-src * data: blob:; connect-src 'self'; script-src 'self'; "
    "style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SHARE_CSP = (
    "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
ASSETS = {"app.js": "text/javascript; charset=utf-8", "styles.css": "text/css; charset=utf-8"}


@lru_cache(maxsize=8)
def web_file(name: str) -> str:
    """A file of gateway/web, read once."""
    return (WEB_DIR / name).read_text(encoding="utf-8")


def security_headers(csp: str, cache: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": cache,
    }


# --- the mobile web client -------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def client_page() -> HTMLResponse:
    """The mobile web client (spec section 1)."""
    return HTMLResponse(web_file("index.html"), headers=security_headers(CLIENT_CSP, "no-cache"))


@router.get("/static/{name}")
async def client_asset(name: str) -> Response:
    """The client's script and style sheet."""
    if name not in ASSETS:
        raise NotFound("No such file.")
    return Response(
        web_file(name), media_type=ASSETS[name], headers=security_headers(CLIENT_CSP, "no-cache")
    )


# --- the share page and card -----------------------------------------------------------------


async def shared_analysis(service: AnalysisService, analysis_id: str) -> Analysis | None:
    """The analysis behind a share link, when it has a type to show."""
    analysis = await service.find(analysis_id)
    if analysis is None or analysis.face_type is None:
        return None
    return analysis


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def og_title(type_name: str) -> str:
    return f"I'm {article(type_name)} {type_name} on AlphaMale"


def regions_html(regions: dict[str, Any]) -> str:
    """One escaped list item per region: part, type, the points it adds."""
    items = []
    for part, label in PARTS:
        region = regions.get(part) or {}
        kind = str(region.get("type") or "not found").title()
        value = f"{kind} · {points(region.get('points'))}"
        items.append(
            f'    <li><span class="part">{html.escape(label)}</span>'
            f'<span class="value">{html.escape(value)}</span></li>'
        )
    return "\n".join(items)


async def photo_html(storage: Storage, settings: Settings, analysis: Analysis) -> str:
    """The shared photo, only with the person's opt-in; empty otherwise or when unavailable."""
    if not analysis.share_opt_in:
        return ""
    try:
        url = await storage.url(analysis.object_key, settings.url_ttl_s)
    except AppError:
        return ""
    return f'  <img class="photo" src="{html.escape(url)}" alt="The shared photo">'


def share_page(service: AnalysisService, analysis: Analysis, photo: str) -> str:
    """Fill the share template; every value is escaped here, fragments were escaped upstream."""
    assert analysis.face_type is not None
    face_type = analysis.face_type
    urls = service.links(analysis.id)
    values = {
        "og_title": og_title(face_type.name),
        "description": face_type.description,
        "card_url": urls.card,
        "card_alt": f"{face_type.name} result card",
        "share_url": urls.share,
        "home_url": "/",
        "colour": TYPE_COLOURS.get(face_type.slug, "#c8c8d2"),
        "article": article(face_type.name),
        "type_name": face_type.name,
        "created": f"{analysis.created_at:%d %B %Y}",
    }
    escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
    fragments = {"regions": regions_html(analysis.regions or {}), "photo": photo}
    return Template(web_file("share.html")).substitute(escaped | fragments)


@router.api_route("/share/{analysis_id}", methods=["GET", "HEAD"], response_class=HTMLResponse)
async def share(analysis_id: str, service: AnalysisServiceDep) -> HTMLResponse:
    """The result page a share link opens; chat apps read its Open Graph tags."""
    analysis = await shared_analysis(service, analysis_id)
    if analysis is None:
        return HTMLResponse(
            web_file("not_found.html"),
            status_code=404,
            headers=security_headers(SHARE_CSP, "no-store"),
        )
    photo = await photo_html(service.storage, service.settings, analysis)
    body = share_page(service, analysis, photo)
    return HTMLResponse(body, headers=security_headers(SHARE_CSP, PAGE_CACHE))


async def shared_photo_bytes(storage: Storage, analysis: Analysis) -> bytes | None:
    """The stored photo when the person opted in; None otherwise or when it cannot be read."""
    if not analysis.share_opt_in:
        return None
    try:
        return await storage.get(analysis.object_key)
    except AppError as exc:
        log.warning("card for %s without its photo: %s", analysis.id, exc.detail)
        return None


def draw_card(analysis: Analysis, photo: bytes | None) -> bytes:
    assert analysis.face_type is not None
    face_type = analysis.face_type
    image = load_photo(photo) if photo else None
    return render_card(
        face_type.name, face_type.slug, face_type.description, analysis.regions or {}, image
    )


@router.api_route("/share/{analysis_id}/card.png", methods=["GET", "HEAD"])
async def share_card(analysis_id: str, service: AnalysisServiceDep) -> Response:
    """The 1200x630 PNG result card (the share page's og:image and the Save image download)."""
    analysis = await shared_analysis(service, analysis_id)
    if analysis is None:
        raise NotFound("No result with that id.")
    photo = await shared_photo_bytes(service.storage, analysis)
    data = await asyncio.to_thread(draw_card, analysis, photo)
    slug = analysis.face_type.slug if analysis.face_type else "result"
    return Response(
        data,
        media_type="image/png",
        headers={
            "Cache-Control": PAGE_CACHE,
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="alphamale-{slug}.png"',
        },
    )
