"""``python -m bench.overload``: bursts of 8 and 16 at once, then a spike of 10x capacity for 60 s,
without and with the guard.

Loopback only and bounded. For each setting (``before``: admission control off; ``after``: on)
it starts the local stack (TorchServe + uvicorn gateway, SQLite, local files), measures one
request alone (p50), sends each burst (``BURSTS`` requests at the same moment, each from its own
address: friends comparing results) to the fresh server, measures (unguarded) the capacity at
concurrency 8, then offers ``--load`` x
that capacity as open-loop arrivals for ``--seconds``, each from its own client address
(``X-Forwarded-For`` through a trusted loopback proxy, so the per-client limit does not
bind). Then one client sends more than its quota while a second sends two: the first must get
429 while the second is admitted. Prints a Markdown table against the issue's targets and
writes ``var/bench/overload.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.__main__ import OUT_DIR
from bench.soak import FORM, machine, pick_photos, running_stack
from model_server.paths import MODEL_STORE_DIR
from model_server.tools import archive

OUTPUT = OUT_DIR / "overload.json"
QUOTA = 5  # per-client analyses per minute in the rate-limit check
BURSTS = (8, 16)
SETTLED_S = 2.0  # the spike's start: the queue takes waiters, as for a burst, then sheds them


@dataclass
class Shot:
    status: int | None  # None: timeout or connection error
    code: str | None
    latency_ms: float
    sent_s: float = 0.0  # when it was sent, from the spike's start


async def post(client: httpx.AsyncClient, photo: bytes, address: str, limit_s: float) -> Shot:
    started = time.perf_counter()
    try:
        answer = await client.post(
            "/v1/analyses",
            data=FORM,
            files={"image": ("face.jpg", photo, "image/jpeg")},
            headers={"X-Forwarded-For": address},
            timeout=limit_s,
        )
    except httpx.HTTPError:
        return Shot(None, "timeout", (time.perf_counter() - started) * 1000)
    code = None
    if answer.status_code >= 400:
        code = answer.json().get("code") if answer.content else None
    return Shot(answer.status_code, code, (time.perf_counter() - started) * 1000)


def addresses() -> itertools.cycle[str]:
    return itertools.cycle(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(1, 60000))


async def closed(
    client: httpx.AsyncClient, photos: list[bytes], concurrency: int, seconds: float
) -> tuple[list[Shot], float]:
    deadline, sources, shots = time.monotonic() + seconds, addresses(), []
    started = time.monotonic()

    async def worker(i: int) -> None:
        while time.monotonic() < deadline:
            shots.append(await post(client, photos[i % len(photos)], next(sources), 60))

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return shots, time.monotonic() - started


async def spike(
    client: httpx.AsyncClient, photos: list[bytes], rate: float, seconds: float, limit_s: float
) -> tuple[list[Shot], float]:
    """Open-loop arrivals at ``rate`` per second for ``seconds``; waits for every answer."""
    sources, tasks = addresses(), []
    started = time.monotonic()
    for n in itertools.count():
        due = started + n / rate
        if due - started >= seconds:
            break
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        photo = photos[n % len(photos)]
        tasks.append(asyncio.create_task(post(client, photo, next(sources), limit_s)))
    shots = await asyncio.gather(*tasks)
    for n, shot in enumerate(shots):
        shot.sent_s = n / rate
    return list(shots), time.monotonic() - started


async def burst(client: httpx.AsyncClient, photos: list[bytes], size: int) -> dict[str, Any]:
    """``size`` requests at once, each its own client: how many are served, the slowest."""
    shots = await asyncio.gather(
        *(post(client, photos[i % len(photos)], f"172.16.{size}.{i + 1}", 60) for i in range(size))
    )
    return {
        "size": size,
        "served": sum(s.status == 201 for s in shots),
        "slowest_ms": round(max(s.latency_ms for s in shots), 1),
        "statuses": sorted(str(s.status) for s in shots),
    }


async def one_client_over_its_limit(client: httpx.AsyncClient, photo: bytes) -> dict[str, Any]:
    greedy = [await post(client, photo, "192.0.2.10", 60) for _ in range(QUOTA + 3)]
    polite = [await post(client, photo, "192.0.2.20", 60) for _ in range(2)]
    return {
        "greedy": [s.status for s in greedy],
        "polite": [s.status for s in polite],
        "ok": all(s.status == 429 for s in greedy[QUOTA:]) and all(s.status == 201 for s in polite),
    }


def ms(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


async def scenario(
    base_url: str, args: argparse.Namespace, guarded: bool, capacity: float | None
) -> dict[str, Any]:
    """One setting; ``capacity`` is the unguarded run's, so both get the same offered load."""
    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        photos = await pick_photos(client, 4, 60)
        alone, _ = await closed(client, photos, 1, args.alone_seconds)
        single_p50 = statistics.median(s.latency_ms for s in alone if s.status == 201)
        bursts = []
        for size in BURSTS:
            await asyncio.sleep(2)  # the server idle again
            bursts.append(await burst(client, photos, size))
            print(f"  burst of {size}: {bursts[-1]}", flush=True)
        if capacity is None:
            loaded, elapsed = await closed(client, photos, 8, args.capacity_seconds)
            capacity = sum(s.status == 201 for s in loaded) / elapsed
        print(f"  alone p50 {single_p50:.0f} ms, capacity {capacity:.2f}/s at 8", flush=True)
        shots, elapsed = await spike(
            client, photos, args.load * capacity, args.seconds, args.timeout
        )
        rates = await one_client_over_its_limit(client, photos[0]) if guarded else None
    admitted = [s.latency_ms for s in shots if s.status == 201]
    admitted_settled = [s.latency_ms for s in shots if s.status == 201 and s.sent_s >= SETTLED_S]
    refusals = [s for s in shots if s.code in ("overloaded", "rate_limited")]
    refused = [s.latency_ms for s in refusals]
    refused_settled = [s.latency_ms for s in refusals if s.sent_s >= SETTLED_S]
    statuses: dict[str, int] = {}
    for s in shots:
        key = f"{s.status} {s.code}" if s.code else str(s.status)
        statuses[key] = statuses.get(key, 0) + 1
    return {
        "guarded": guarded,
        "single_p50_ms": round(single_p50, 1),
        **{f"burst_{b['size']}_served": b["served"] for b in bursts},
        **{f"burst_{b['size']}_slowest_ms": b["slowest_ms"] for b in bursts},
        "capacity_per_s": round(capacity, 2),
        "offered_per_s": round(args.load * capacity, 2),
        "arrivals": len(shots),
        "admitted": len(admitted),
        "admitted_p50_ms": ms(admitted, 0.5),
        "admitted_p99_ms": ms(admitted, 0.99),
        "admitted_settled_p99_ms": ms(admitted_settled, 0.99),
        "admitted_per_s": round(len(admitted) / elapsed, 2),
        "refused": len(refused),
        "refused_p50_ms": ms(refused, 0.5),
        "refused_p99_ms": ms(refused, 0.99),
        "refused_over_50_ms": sum(v > 50 for v in refused),
        "refused_settled_p99_ms": ms(refused_settled, 0.99),
        "timeouts": sum(s.status is None for s in shots),
        "other_5xx": sum(
            1 for s in shots if s.status and s.status >= 500 and s.code != "overloaded"
        ),
        "statuses": statuses,
        "rate_limit": rates,
    }


def fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def report(runs: list[dict[str, Any]]) -> str:
    rows = [
        "| | before (admits all) | after (guard) | target |",
        "|---|---|---|---|",
    ]
    before, after = runs

    def line(label: str, key: str, target: str = "", digits: int = 0) -> None:
        rows.append(
            f"| {label} | {fmt(before[key], digits)} | {fmt(after[key], digits)} | {target} |"
        )

    line("one request alone, p50 ms", "single_p50_ms")
    for size in BURSTS:
        line(f"burst of {size} at once: served", f"burst_{size}_served", str(size))
        slowest = (size + 2) * after["single_p50_ms"]
        line(
            f"burst of {size}: slowest ms",
            f"burst_{size}_slowest_ms",
            f"<= {size + 2}x alone ({slowest:.0f})",
        )
    line("capacity at concurrency 8 (unguarded), /s", "capacity_per_s", digits=2)
    line("offered, /s (10x capacity)", "offered_per_s", digits=1)
    line("arrivals in the spike", "arrivals")
    line("admitted (201)", "admitted")
    line("admitted p50 ms", "admitted_p50_ms")
    line("admitted p99 ms", "admitted_p99_ms", f"<= 3x alone ({3 * after['single_p50_ms']:.0f})")
    after_start = f"sent after the spike's first {SETTLED_S:g} s"
    line(f"admitted p99 ms, {after_start}", "admitted_settled_p99_ms")
    line(
        "admitted /s",
        "admitted_per_s",
        f">= 0.9x capacity ({0.9 * after['capacity_per_s']:.2f})",
        2,
    )
    line("refused (503 overloaded / 429)", "refused")
    line("refused p99 ms", "refused_p99_ms", "<= 50")
    line("refused after more than 50 ms", "refused_over_50_ms")
    line(f"refused p99 ms, {after_start}", "refused_settled_p99_ms")
    line("timeouts", "timeouts", "0")
    line("other 5xx", "other_5xx", "0")
    rates = after["rate_limit"]
    rows.append(
        f"\nOne client over its quota of {QUOTA}/min: {rates['greedy']}; a second client at the "
        f"same time: {rates['polite']} ({'ok' if rates['ok'] else 'NOT ok'})."
    )
    return "\n".join(rows)


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.overload", description=__doc__)
    add = parser.add_argument
    add("--load", type=float, default=10, help="offered rate as a multiple of capacity")
    add("--seconds", type=float, default=60, help="spike length (default 60)")
    add("--alone-seconds", type=float, default=10, help="single-request measurement")
    add("--capacity-seconds", type=float, default=20, help="capacity measurement")
    add("--timeout", type=float, default=30, help="client timeout in s (a phone gives up)")
    add("--ready-timeout", type=float, default=240)
    add("--output", type=Path, default=OUTPUT)
    add(
        "--set",
        action="append",
        default=[],
        metavar="ALPHAMALE_NAME=VALUE",
        help="a gateway setting for both runs (repeatable), e.g. a latency budget to compare",
    )
    return parser


def main(args: argparse.Namespace) -> int:
    archive.build_all(MODEL_STORE_DIR)
    runs: list[dict[str, Any]] = []
    for guarded in (False, True):
        settings = {
            "ALPHAMALE_ADMISSION_ENABLED": str(guarded).lower(),
            "ALPHAMALE_TRUSTED_PROXIES": '["127.0.0.1"]',
            "ALPHAMALE_RATE_LIMIT_QUOTA": str(QUOTA),
            "ALPHAMALE_RATE_LIMIT_PERIOD_S": "60",
        } | dict(item.split("=", 1) for item in args.set)
        print(f"{'after (guard on)' if guarded else 'before (guard off)'}:", flush=True)
        with running_stack(False, args.ready_timeout, settings) as stack:
            capacity = runs[0]["capacity_per_s"] if runs else None
            runs.append(asyncio.run(scenario(stack.base_url, args, guarded, capacity)))
    record = {
        "machine": machine(),
        "load": args.load,
        "seconds": args.seconds,
        "settings": args.set,
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    print("\n" + report(runs))
    print(f"\nFigures: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(get_args_parser().parse_args()))
