"""Cards and stories cost one render per version: cached by what they show.

A drawing is named by its content: the words (a ``CardContent`` or ``GroupContent``), the
language, the photos on it (their object keys: a stored photo never changes) and the renderer's
own source and fonts. That name is the answer's ``ETag``: a client or chat app asking again with
``If-None-Match`` gets ``304`` and no body; anyone else gets the PNG from an in-process LRU
bounded in bytes (``Settings.render_cache_mb``). Only a render spends from the client's
per-client rate (:mod:`gateway.overload.clients`): looking again at a drawn card costs nothing,
drawing new ones is bounded like analyses.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.overload.clients import rate_limited, spend
from gateway.web.card import font_path

if TYPE_CHECKING:
    from gateway.context import AppContext

RENDERERS = ("card.py", "story.py", "group_card.py", "icons.py")


@cache
def renderer_version() -> str:
    """The drawing code and the fonts it finds: a change of either draws anew."""
    digest = hashlib.sha256()
    for name in RENDERERS:
        digest.update((Path(__file__).parent / name).read_bytes())
    fonts = [font_path(bold, cjk) for bold in (False, True) for cjk in (False, True)]
    digest.update(repr(fonts).encode())
    return digest.hexdigest()


def etag_of(kind: str, lang: str, content: Any, photos: Sequence[str | None]) -> str:
    """A strong ETag naming everything the drawing shows."""
    # a frozen dataclass of text, numbers and the regions read from the row: its repr is
    # deterministic and about 50 times cheaper than dataclasses.asdict's deep copy
    named = json.dumps([renderer_version(), kind, lang, repr(content), list(photos)])
    return f'"{hashlib.sha256(named.encode()).hexdigest()[:40]}"'


def not_modified(request: Request, etag: str) -> bool:
    """Whether the client already holds this version (``If-None-Match``, weak comparison)."""
    given = request.headers.get("if-none-match", "")
    return given.strip() == "*" or etag in {
        tag.strip().removeprefix("W/") for tag in given.split(",")
    }


async def charge_render(context: AppContext, request: Request) -> None:
    """One render spent from the client's per-client rate (``429`` when it has none left)."""
    if context.rate_store is None:
        return
    secret = context.settings.signing_secret
    decision, headers = await spend(context.rate_store, context.rate, request.scope, secret)
    if not decision.allowed:
        raise rate_limited(context.rate, headers)


async def cached_png(
    context: AppContext,
    request: Request,
    etag: str,
    draw: Callable[[], Awaitable[bytes]],
    headers: dict[str, str],
) -> Response:
    """The drawing named ``etag``: 304 when the client has it, else from the cache, else drawn
    (the client's rate paying for it) and kept."""
    headers = headers | {"ETag": etag}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    data = context.renders.get(etag)
    if data is None:
        await charge_render(context, request)
        data = await draw()
        context.renders.put(etag, data)
    return Response(data, media_type="image/png", headers=headers)


async def memoised_png(
    context: AppContext,
    request: Request,
    address: str,
    describe: Callable[[], Awaitable[tuple[str, Callable[[], Awaitable[bytes]]]]],
    headers: dict[str, str],
) -> Response:
    """:func:`cached_png` of the image at ``address``, whose version (``describe``: its ETag and
    how to draw it, which reads the database) is asked at most every couple of seconds."""
    etag = context.renders.current(address)
    if etag is None:
        etag, draw = await describe()
        context.renders.note(address, etag)
        return await cached_png(context, request, etag, draw, headers)

    async def drawn() -> bytes:  # current() vouched for the cached drawing, and nothing
        raise AssertionError("a memoised version without its drawing")  # awaited since

    return await cached_png(context, request, etag, drawn, headers)
