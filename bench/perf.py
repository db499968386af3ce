"""``python -m bench.perf``: end to end against raw TorchServe and the physical limit.

Loopback only. Starts the local stack (TorchServe + the uvicorn gateway, SQLite, local files;
admission control and per-client limits off, so the capacity itself is measured) and, for a
640 px photo and a 12 MP phone photo (3024 x 4032 JPEG), measures at concurrency 1, 8 and 32:

- **end to end**: ``POST /v1/analyses`` through the gateway, p50/p95 and analyses per second;
- **raw TorchServe**: the same model work called the way the gateway calls it (``face_check``
  on the detection copy, then ``face_regions`` and ``face_type`` on the crop, concurrently),
  from inputs prepared once;
- the **gateway's overhead** (end-to-end p50 minus raw p50 at concurrency 1);
- the **physical limit**: cores / the handlers' CPU time for one request (measured in process,
  ``time.process_time``), and the stack's throughput as a share of it;
- the **seed's design** (``bench/seed_design.py``: one in-process endpoint that loads the weights
  from disk for every request and runs the models in the event loop), at concurrency 8;
- the **RSS** of the gateway process after ``--heavy`` 12 MP requests and of every TorchServe
  process.

Prints a Markdown table and writes ``var/bench/perf.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from bench.__main__ import OUT_DIR, sample_photo
from bench.soak import FORM, machine, memory_sample, running_stack
from core.crop import upright_crop
from core.schemas import FaceCheckAnswer
from model_server.paths import MODEL_STORE_DIR
from model_server.tools import archive

OUTPUT = OUT_DIR / "perf.json"
OCTET = {"Content-Type": "application/octet-stream"}
SETTINGS = {"ALPHAMALE_ADMISSION_ENABLED": "false", "ALPHAMALE_RATE_LIMIT_QUOTA": "0"}


def phone_photo(photo: bytes) -> bytes:
    """The sample face as a 12 MP portrait phone JPEG (3024 x 4032, quality 85)."""
    image = Image.open(io.BytesIO(photo)).convert("RGB")
    canvas = image.resize((3024, 4032), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@dataclass
class Samples:
    """Latencies (ms), failures and the seconds they took, pooled over rounds."""

    concurrency: int
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    elapsed: float = 0.0

    def summary(self) -> dict[str, Any]:
        latencies = self.latencies
        many = len(latencies) > 1
        cuts = statistics.quantiles(latencies, n=20, method="inclusive") if many else []
        return {
            "concurrency": self.concurrency,
            "p50_ms": statistics.median(latencies) if latencies else None,
            "p95_ms": cuts[18] if cuts else None,
            "per_s": len(latencies) / self.elapsed if self.elapsed else 0.0,
            "failures": self.failures,
        }


async def closed_loop(
    call: Callable[[], Awaitable[bool]],
    concurrency: int,
    seconds: float,
    into: Samples | None = None,
) -> Samples:
    """``concurrency`` callers back to back for ``seconds``: latency and completed calls/s."""
    samples = into or Samples(concurrency)
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            ok = await call()
            if ok:
                samples.latencies.append((time.perf_counter() - started) * 1000)
            else:
                samples.failures += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    samples.elapsed += time.monotonic() - started
    return samples


async def interleaved(
    calls: dict[str, Callable[[], Awaitable[bool]]], concurrency: int, seconds: float, rounds: int
) -> dict[str, dict[str, Any]]:
    """Each call for ``seconds`` in all, in ``rounds`` alternating slices, so that a machine
    getting faster or slower in the meantime (a shared host does) shifts both alike."""
    pooled = {kind: Samples(concurrency) for kind in calls}
    for call in calls.values():
        await closed_loop(call, concurrency, 2)  # warm
    for _ in range(rounds):
        for kind, call in calls.items():
            await closed_loop(call, concurrency, seconds / rounds, pooled[kind])
    return {kind: samples.summary() for kind, samples in pooled.items()}


def detection_copy(photo: bytes) -> tuple[bytes, float, Image.Image]:
    """What the gateway sends face_check (as gateway.analyses.geometry builds it)."""
    from gateway.faces import detection_jpeg
    from gateway.imaging import clean_image

    image = clean_image(photo).image
    small, scale = detection_jpeg(image)
    return small, scale, image


async def raw_inputs(client: httpx.AsyncClient, photo: bytes) -> tuple[bytes, bytes]:
    """(detection JPEG, crop JPEG) for ``photo``, prepared once, as the gateway would."""
    small, scale, image = detection_copy(photo)
    answer = await client.post("/predictions/face_check", content=small, headers=OCTET)
    face = FaceCheckAnswer.model_validate(answer.json()).faces[0]
    box = [v * scale for v in face.box]
    eyes = [(x * scale, y * scale) for x, y in (face.landmarks.left_eye, face.landmarks.right_eye)]
    crop = upright_crop(image, box, *eyes).image
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=90)
    return small, buffer.getvalue()


def raw_call(client: httpx.AsyncClient, small: bytes, crop: bytes) -> Callable[[], Awaitable[bool]]:
    async def call() -> bool:
        check = await client.post("/predictions/face_check", content=small, headers=OCTET)
        parts, kind = await asyncio.gather(
            client.post("/predictions/face_regions", content=crop, headers=OCTET),
            client.post("/predictions/face_type", content=crop, headers=OCTET),
        )
        return all(r.status_code == 200 for r in (check, parts, kind))

    return call


def gateway_call(client: httpx.AsyncClient, photo: bytes) -> Callable[[], Awaitable[bool]]:
    async def call() -> bool:
        answer = await client.post(
            "/v1/analyses", data=FORM, files={"image": ("face.jpg", photo, "image/jpeg")}
        )
        return answer.status_code == 201

    return call


def handler_cpu_seconds(photo: bytes) -> dict[str, float]:
    """Each handler's CPU time for one request (in process, one torch thread, warm)."""
    import torch

    from bench.seed_design import handlers, served_inputs

    torch.set_num_threads(1)
    loaded = handlers()
    inputs = served_inputs(loaded["face_check"], photo)
    out = {}
    for name, handler in loaded.items():
        body = [{"body": inputs[name]}]
        handler.handle(body, handler.context)  # warm
        started = time.process_time()
        for _ in range(5):
            handler.handle(body, handler.context)
        out[name] = (time.process_time() - started) / 5
    return out


async def scenario(base_url: str, inference_url: str, args: argparse.Namespace) -> dict[str, Any]:
    photos = {"640 px": sample_photo()}
    photos["12 MP"] = phone_photo(photos["640 px"])
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=64)
    result: dict[str, Any] = {"photos": {k: len(v) for k, v in photos.items()}, "runs": {}}
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as gateway,
        httpx.AsyncClient(base_url=inference_url, timeout=120, limits=limits) as raw,
    ):
        for label, photo in photos.items():
            small, crop = await raw_inputs(raw, photo)
            calls = {
                "end to end": gateway_call(gateway, photo),
                "raw TorchServe": raw_call(raw, small, crop),
            }
            for concurrency in args.concurrency:
                runs = await interleaved(calls, concurrency, args.seconds, args.rounds)
                for kind, run in runs.items():
                    result["runs"][f"{label} | {kind} | {concurrency}"] = run
                    print(f"  {label} {kind} c={concurrency}: {fmt_run(run)}", flush=True)
        heavy = gateway_call(gateway, photos["12 MP"])
        for _ in range(args.heavy):
            await heavy()
    return result


def fmt_run(run: dict[str, Any]) -> str:
    p50, p95 = run["p50_ms"], run["p95_ms"]
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, {run['per_s']:.2f}/s"


def report(record: dict[str, Any]) -> str:
    runs = record["runs"]
    lines = [
        "| photo | concurrency | end to end p50 / p95 ms | /s | raw TorchServe p50 / p95 ms | /s "
        "| e2e / raw throughput |",
        "|---|---|---|---|---|---|---|",
    ]
    for label in ("640 px", "12 MP"):
        for c in record["concurrency"]:
            e2e, raw = runs[f"{label} | end to end | {c}"], runs[f"{label} | raw TorchServe | {c}"]
            lines.append(
                f"| {label} | {c} | {e2e['p50_ms']:.0f} / {e2e['p95_ms']:.0f} | {e2e['per_s']:.2f} "
                f"| {raw['p50_ms']:.0f} / {raw['p95_ms']:.0f} | {raw['per_s']:.2f} "
                f"| {e2e['per_s'] / raw['per_s']:.2f} |"
            )
    cpu = record["handler_cpu_s"]
    limit = record["physical_limit_per_s"]
    best = max(runs[f"640 px | end to end | {c}"]["per_s"] for c in record["concurrency"])
    lines += [
        "",
        "| figure | value | target |",
        "|---|---|---|",
    ]
    for label in ("640 px", "12 MP"):
        e2e, raw = runs[f"{label} | end to end | 1"], runs[f"{label} | raw TorchServe | 1"]
        overhead = e2e["p50_ms"] - raw["p50_ms"]
        lines.append(
            f"| gateway overhead, {label}, c=1 | {overhead:.0f} ms "
            f"({100 * overhead / e2e['p50_ms']:.1f} % of e2e p50) | <= 5 % |"
        )
    ratio = runs["12 MP | end to end | 1"]["p50_ms"] / runs["640 px | end to end | 1"]["p50_ms"]
    lines += [
        f"| 12 MP p50 / 640 px p50 (c=1) | {ratio:.2f} | <= 1.15 |",
        "| handlers' CPU per request | "
        + ", ".join(f"{k} {1000 * v:.0f} ms" for k, v in cpu.items())
        + " | |",
        f"| physical limit ({record['machine']['cores']} cores) | {limit:.2f}/s | |",
        f"| best end-to-end throughput (640 px) | {best:.2f}/s = {best / limit:.2f} of the limit "
        "| >= 0.8 |",
    ]
    seed = record.get("seed_design")
    if seed:
        lines.append(
            f"| seed's design, c=8 | {seed['per_s']:.3f}/s (p50 {seed['p50_ms']:.0f} ms); stack "
            f"{best / seed['per_s']:.0f}x | >= 20x |"
        )
    rss = record["rss_mb"]
    lines.append(
        f"| gateway RSS after {record['heavy']} 12 MP requests | {rss['gateway']:.0f} MB "
        "| <= 150 MB |"
    )
    lines.append(
        "| TorchServe RSS | "
        + ", ".join(f"{k} {v:.0f} MB" for k, v in rss.items() if k != "gateway")
        + " | |"
    )
    return "\n".join(lines)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__)
    parser.add_argument("--seconds", type=float, default=24, help="per measurement")
    parser.add_argument("--rounds", type=int, default=4, help="alternating slices per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--heavy", type=int, default=200, help="12 MP requests before the RSS")
    parser.add_argument("--seed-seconds", type=float, default=60)
    parser.add_argument("--ready-timeout", type=float, default=240)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    return parser


def main(args: argparse.Namespace) -> int:
    archive.build_all(MODEL_STORE_DIR)
    record: dict[str, Any] = {
        "machine": machine(),
        "concurrency": args.concurrency,
        "heavy": args.heavy,
    }
    with running_stack(False, args.ready_timeout, SETTINGS) as stack:
        record |= asyncio.run(scenario(stack.base_url, stack.inference_url, args))

        async def rss() -> dict[str, float]:
            async with httpx.AsyncClient() as client:
                sample = await memory_sample(client, stack)
            return {k: v["rss_mb"] for k, v in sample.items() if v["rss_mb"] is not None}

        record["rss_mb"] = asyncio.run(rss())
    cpu = handler_cpu_seconds(sample_photo())
    record["handler_cpu_s"] = cpu
    record["physical_limit_per_s"] = (os.cpu_count() or 1) / sum(cpu.values())
    from bench.seed_design import measure as seed_measure

    record["seed_design"] = seed_measure(sample_photo(), args.seed_seconds)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2, default=float) + "\n")
    print("\n" + report(record))
    print(f"\nFigures: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(get_args_parser().parse_args()))
