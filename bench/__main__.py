"""``python -m bench``: start a private TorchServe, time each hop, print one table.

Rows: each handler through TorchServe (warm, one request at a time), the gateway's whole
analysis (validation, face check, crop, regions and type concurrently, storage, SQLite) in
process, of one photo and of three selfies of one person (target: at most 2.2x one), and the
memory of the TorchServe processes. Targets are printed beside the figures; nothing here is a
test.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from PIL import Image, ImageEnhance, ImageOps

from core.dataset import default_dataset_dir
from db import migrate
from db.seed import seed_types
from db.session import make_sessionmaker
from gateway.analyses.deps import analysis_service
from gateway.config import Settings
from gateway.main import create_app
from model_server.paths import MODEL_STORE_DIR, REPO_ROOT, VAR_DIR
from model_server.tools import archive, serve

ROOT = REPO_ROOT
OUT_DIR = VAR_DIR / "bench"  # every benchmark's figures
DATASET = default_dataset_dir() / "images"
THREE_SELFIES_RATIO = 2.2  # issue 27: three selfies cost at most this many times one
TARGETS_MS = {"face_check": 300, "face_regions": 300, "face_type": 80, "gateway analysis": 350}


def sample_photo() -> bytes:
    photos = sorted(DATASET.glob("*_03.jpg"))
    if photos:
        return photos[0].read_bytes()
    raise SystemExit(f"bench needs a face photo: {DATASET} not found")


def selfies_of(photo: bytes) -> tuple[bytes, bytes, bytes]:
    """The photo, its mirror image and a slightly darker copy: three selfies of one person."""
    image = Image.open(io.BytesIO(photo)).convert("RGB")
    copies = [photo]
    for changed in (ImageOps.mirror(image), ImageEnhance.Brightness(image).enhance(0.9)):
        buffer = io.BytesIO()
        changed.save(buffer, "JPEG", quality=92)
        copies.append(buffer.getvalue())
    return copies[0], copies[1], copies[2]


def crop_of(photo: bytes) -> bytes:
    image = Image.open(io.BytesIO(photo)).convert("RGB").resize((320, 320))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


async def timed(call: Callable[[], Awaitable[object]], runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def rss_mb(pid: int, kind: str = "rss") -> float:
    """Resident memory of a process and its children (TorchServe's frontend and workers).

    ``kind="pss"`` counts each shared page once among the processes that map it: what the box
    really spends, since every worker maps the same torch libraries (``rss`` counts them in
    each worker)."""
    import psutil

    process = psutil.Process(pid)
    family = [process, *process.children(recursive=True)]
    if kind == "pss":
        return sum(p.memory_full_info().pss for p in family) / 2**20
    return sum(p.memory_info().rss for p in family) / 2**20


def row(name: str, samples: list[float]) -> str:
    p50 = statistics.median(samples)
    p90 = sorted(samples)[int(0.9 * (len(samples) - 1))]
    target = TARGETS_MS.get(name)
    verdict = "" if target is None else ("ok" if p50 <= target else "SLOW")
    mean = statistics.mean(samples)
    return (
        f"| {name:<18} | {p50:8.1f} | {p90:8.1f} | {mean:8.1f} | {target or '':>6} | {verdict:<4} |"
    )


async def run(runs: int) -> None:
    photo = sample_photo()
    archive.build_all(MODEL_STORE_DIR)
    var = Path(tempfile.mkdtemp(prefix="alphamale-bench-"))
    ports = dict(zip(serve.DEFAULT_PORTS, [18080, 18081, 18082], strict=True))
    paths = serve.start(MODEL_STORE_DIR, var / "ts", ports, list(serve.DEFAULT_MODELS))
    inference = f"http://127.0.0.1:{ports['inference']}"
    try:
        settings = Settings(
            var_dir=var,
            model_inference_url=inference,
            model_management_url=f"http://127.0.0.1:{ports['management']}",
            rate_limit_quota=0,  # one client sends every request: measure the work, not the limit
            admission_enabled=False,
        )
        await asyncio.to_thread(migrate.upgrade, settings.database_url)
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(timeout=60) as http,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=60
            ) as client,
        ):
            async with make_sessionmaker(app.state.context.engine)() as session:
                await seed_types(session)
            octet = {"Content-Type": "application/octet-stream"}
            crop = crop_of(photo)
            rows = []
            for name, body in (("face_check", photo), ("face_regions", crop), ("face_type", crop)):
                url = f"{inference}/predictions/{name}"
                samples = await timed(
                    lambda u=url, b=body: http.post(u, content=b, headers=octet), runs
                )
                rows.append(row(name, samples))
            analyses = analysis_service(app.state.context)
            form = {"mbti": "INTJ", "birth_date": "1990-01-01", "consent": analyses.consent.version}

            def analysing(*selfies: bytes) -> Callable[[], Awaitable[None]]:
                files = [("image", (f"{i}.jpg", s, "image/jpeg")) for i, s in enumerate(selfies)]

                async def analyse() -> None:
                    response = await client.post("/v1/analyses", data=form, files=files)
                    assert response.status_code in (201, 422), response.text

                return analyse

            one = await timed(analysing(photo), runs)
            three = await timed(analysing(*selfies_of(photo)), runs)
            rows.append(row("gateway analysis", one))
            rows.append(row("three selfies", three))
            ratio = statistics.median(three) / statistics.median(one)
            pid = serve.read_pid(paths) or 0
            memory = rss_mb(pid), rss_mb(pid, "pss")
        print(f"\nAlphaMale benchmarks ({runs} runs each, warm, sequential; times in ms)\n")
        print("| what               |      p50 |      p90 |     mean | target | ok   |")
        print("|--------------------|----------|----------|----------|--------|------|")
        print("\n".join(rows))
        verdict = "met" if ratio <= THREE_SELFIES_RATIO else "NOT met"
        print(f"\nThree selfies cost {ratio:.2f}x one (target <= {THREE_SELFIES_RATIO}: {verdict})")
        print(
            f"\nTorchServe memory (frontend + workers): {memory[0]:.0f} MB RSS, "
            f"{memory[1]:.0f} MB PSS (shared pages counted once)"
        )
    finally:
        serve.stop(var / "ts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(run(parser.parse_args().runs))


if __name__ == "__main__":
    main()
