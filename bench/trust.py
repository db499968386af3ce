"""``python -m bench.trust``: what a card costs and what big uploads cost in memory.

- **Images cost once**: a group of 12 (every member's face shared, generated photos, no real
  person) and its 1080x1920 story. One render (the first GET) against 100 GETs of the same
  story, with the render cache (the default) and without it (``render_cache_mb=0``), in
  process on SQLite and local files. Target: 100 GETs <= 2x one render.
- **Memory-safe decodes**: a gateway process (uvicorn, as deployed) gets eight 40 MP PNGs at
  once (flat, 126 KB each: cheap to send, 160 MB each to decode); its peak RSS, sampled every
  10 ms, with the decode budget (the default, 48 MP) and without it (``decode_budget_mp=0``).
  No model server is needed: each upload is decoded before anything asks a model.

Prints a Markdown table and writes ``var/bench/trust.json``.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from PIL import Image, ImageDraw

from bench.__main__ import OUT_DIR
from bench.soak import CONSENT, machine, start_gateway, stop_gateway
from db import migrate, queries
from db.models import Analysis, Group, GroupMember
from db.seed import seed_types
from gateway.analyses.service import token_hash
from gateway.clients.storage import new_key
from gateway.config import Settings
from gateway.context import AppContext
from gateway.main import create_app

OUTPUT = OUT_DIR / "trust.json"
MEMBERS = 12
GETS = 100
UPLOADS = 8
BIG = (8000, 5000)  # 40 MP, the largest area accepted


def face_photo(seed: int) -> bytes:
    """A generated face-like drawing (no real person), 900 x 1200 JPEG."""
    image = Image.new("RGB", (900, 1200), (60 + seed * 9 % 120, 110, 160))
    draw = ImageDraw.Draw(image)
    draw.ellipse((220, 240, 680, 900), fill=(230, 190 - seed * 3, 160))
    draw.ellipse((340, 480, 400, 520), fill=(30, 30, 30))
    draw.ellipse((500, 480, 560, 520), fill=(30, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


async def add_group(context: AppContext) -> str:
    """A group of ``MEMBERS`` typed results, each sharing its photo; its invite code."""
    regions = {
        part: {"found": True, "box": box, "presence": 0.99, "type": "beta", "points": points,
               "strength": "clear", "polygon": [[box[0], box[1]], [box[2], box[1]],
                                                [box[2], box[3]], [box[0], box[3]]]}
        for part, box, points in (
            ("face", [220, 240, 680, 900], 40),
            ("t_zone", [330, 440, 570, 640], 32),
            ("jaw", [260, 660, 640, 900], 8),
        )
    }  # fmt: skip
    code = secrets.token_urlsafe(12)
    async with context.sessions.begin() as session:
        beta = await queries.get_type(session, "beta")
        assert beta is not None
        group = Group(code=code)
        session.add(group)
        await session.flush()
        for index in range(MEMBERS):
            key = new_key("uploads", "jpg")
            await context.storage.put(key, face_photo(index), "image/jpeg")
            row = Analysis(
                object_key=key, image_sha256="0" * 64, mbti="INTJ", birth_month="1990-01",
                outcome="beta", type_id=beta.id, score=80 - index, regions=regions,
                model_name="face_type", model_version="bench",
                delete_token_hash=token_hash(secrets.token_urlsafe(24)), share_opt_in=True,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            group.owner_analysis_id = group.owner_analysis_id or row.id
            session.add(
                GroupMember(group_id=group.id, analysis_id=row.id, nickname=f"친구 {index}")
            )
    return code


async def story_costs(cache_mb: int) -> dict[str, float]:
    """Seconds for the first GET of a group's story (a render) and for 100 more."""
    var = Path(tempfile.mkdtemp(prefix="alphamale-bench-trust-"))
    settings = Settings(var_dir=var, render_cache_mb=cache_mb, rate_limit_quota=0)
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as client,
    ):
        context: AppContext = app.state.context
        async with context.sessions() as session:
            await seed_types(session)
        path = f"/g/{await add_group(context)}/story.png?lang=ko"
        started = time.perf_counter()
        first = await client.get(path)
        one = time.perf_counter() - started
        assert first.status_code == 200, first.text
        started = time.perf_counter()
        for _ in range(GETS):
            assert (await client.get(path)).status_code == 200
        hundred = time.perf_counter() - started
        revalidate = {"If-None-Match": first.headers["etag"]}
        started = time.perf_counter()
        for _ in range(GETS):
            assert (await client.get(path, headers=revalidate)).status_code == 304
        conditional = time.perf_counter() - started
    return {"one_render_s": one, "hundred_gets_s": hundred, "hundred_304_s": conditional}


def big_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", BIG, (200, 180, 160)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def gateway_settings(var: Path, budget_mp: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAMALE_")}
    return env | {
        "ALPHAMALE_VAR_DIR": str(var),
        "ALPHAMALE_MODEL_INFERENCE_URL": "http://127.0.0.1:9",  # never reached by these
        "ALPHAMALE_RATE_LIMIT_QUOTA": "0",
        "ALPHAMALE_ADMISSION_ENABLED": "false",
        "ALPHAMALE_DECODE_BUDGET_MP": str(budget_mp),
        "PYTHONUNBUFFERED": "1",
    }


async def upload_peak(budget_mp: float, png: bytes) -> dict[str, float]:
    """Peak RSS (MB) of a gateway process while it gets ``UPLOADS`` big PNGs at once."""
    var = Path(tempfile.mkdtemp(prefix="alphamale-bench-decode-"))
    env = gateway_settings(var, budget_mp)
    migrate_cli = [sys.executable, "-m", "gateway.cli.migrate", "upgrade"]
    await asyncio.to_thread(subprocess.run, migrate_cli, env=env, check=True)
    port = 18400 + int(budget_mp) % 100
    process = start_gateway(env, port, var / "gateway.log")
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            for _ in range(600):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            memory = psutil.Process(process.pid)
            idle = memory.memory_info().rss / 2**20
            peak = idle
            form = {"mbti": "INTJ", "birth_date": "1990-01-01", "consent": CONSENT}

            async def send() -> int:
                files = {"image": ("big.png", png, "image/png")}
                return (await client.post("/v1/analyses", data=form, files=files)).status_code

            sending = asyncio.gather(*(send() for _ in range(UPLOADS)))
            started = time.perf_counter()
            while not sending.done():
                peak = max(peak, memory.memory_info().rss / 2**20)
                await asyncio.sleep(0.01)
            statuses = await sending
            took = time.perf_counter() - started
    finally:
        stop_gateway(process)
    return {"idle_mb": idle, "peak_mb": peak, "seconds": took, "statuses": sorted(set(statuses))}


async def main() -> int:
    stories = {mb: await story_costs(mb) for mb in (64, 0)}
    png = big_png()
    uploads = {mp: await upload_peak(mp, png) for mp in (48.0, 0.0)}
    cached, uncached = stories[64], stories[0]
    ratio = cached["hundred_gets_s"] / cached["one_render_s"]
    bounded, unbounded = uploads[48.0], uploads[0.0]
    print(f"\nAlphaMale, trust: images and decodes ({machine()['cores']} cores)\n")
    print("| what | default | off | target |")
    print("|---|---|---|---|")
    print(
        f"| group story ({MEMBERS} faces): one render | {cached['one_render_s'] * 1000:.0f} ms "
        f"| {uncached['one_render_s'] * 1000:.0f} ms | |"
    )
    print(
        f"| {GETS} GETs of it | {cached['hundred_gets_s'] * 1000:.0f} ms ({ratio:.2f}x one) "
        f"| {uncached['hundred_gets_s'] * 1000:.0f} ms "
        f"({uncached['hundred_gets_s'] / uncached['one_render_s']:.1f}x) "
        f"| <= 2x one render: {'met' if ratio <= 2 else 'NOT met'} |"
    )
    print(f"| {GETS} GETs with If-None-Match (304) | {cached['hundred_304_s'] * 1000:.0f} ms | | |")
    print(
        f"| {UPLOADS} x 40 MP PNG at once: peak RSS | {bounded['peak_mb']:.0f} MB "
        f"(idle {bounded['idle_mb']:.0f}) | {unbounded['peak_mb']:.0f} MB "
        f"(idle {unbounded['idle_mb']:.0f}) | stated |"
    )
    print(
        f"| their answers, time | {bounded['statuses']}, {bounded['seconds']:.1f} s "
        f"| {unbounded['statuses']}, {unbounded['seconds']:.1f} s | |"
    )
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"machine": machine(), "stories": stories, "uploads": uploads}
    OUTPUT.write_text(json.dumps(record, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
