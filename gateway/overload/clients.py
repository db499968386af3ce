"""Who a client is to the per-client rate, and what it is told when it spends from it.

A client is known by a keyed hash of its address, never the address: the peer's, or, behind a
trusted proxy, the forwarded one (uvicorn's ``ProxyHeadersMiddleware``, outside every guard,
has set it from ``Settings.trusted_proxies``). Analyses, group starts and joins (the overload
guard) and card and story renders (gateway.web.rendered) spend from the same budget; every
answer that spent says so in the ``RateLimit-Policy`` and ``RateLimit`` headers (IETF httpapi
draft), and a refusal is ``429 rate_limited`` with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from typing import TYPE_CHECKING

from starlette.types import Scope

from gateway.errors import RateLimited
from gateway.overload.ratelimit import Decision, Rate, Store

if TYPE_CHECKING:
    from gateway.config import Settings

POLICY = "analyses"


def per_client(settings: Settings) -> Rate:
    """The per-client rate the settings ask for (a quota of 0 turns the store off instead)."""
    return Rate(max(1, settings.rate_limit_quota), settings.rate_limit_period_s)


def client_key(scope: Scope, secret: bytes) -> str:
    """What the rate store keeps of a client (its rows outlive requests; the purge removes them
    once they have expired)."""
    address = (scope.get("client") or ("unknown", 0))[0].encode()
    return hmac.new(secret, address, hashlib.sha256).hexdigest()


def rate_headers(rate: Rate, decision: Decision) -> dict[str, str]:
    headers = {
        "RateLimit-Policy": f'"{POLICY}";q={rate.quota};w={math.ceil(rate.period_s)}',
        "RateLimit": f'"{POLICY}";r={decision.remaining};t={math.ceil(decision.reset_s)}',
    }
    if not decision.allowed:
        headers["Retry-After"] = str(max(1, math.ceil(decision.retry_after_s)))
    return headers


async def spend(
    store: Store, rate: Rate, scope: Scope, secret: bytes
) -> tuple[Decision, dict[str, str]]:
    """One request of this client: whether it may go on, and the headers that say so."""
    decision = await store.hit(client_key(scope, secret), rate)
    return decision, rate_headers(rate, decision)


def rate_limited(rate: Rate, headers: dict[str, str]) -> RateLimited:
    return RateLimited(
        f"At most {rate.quota} analyses, group starts and joins, and card renders per "
        f"{rate.period_s:g} s per client.",
        headers=headers,
    )
