"""``python -m bench.soak``: a bounded soak of the whole local stack, on loopback only.

Starts a private TorchServe and the gateway (``uvicorn``, SQLite and local storage in a temp
dir), measures capacity (analyses per second at a fixed concurrency), then offers
``--load`` x capacity as open-loop arrivals (a fixed interval) for ``--minutes``. Each arrival
is one new analysis of a London photo, deleted at once with its delete token so storage stays
bounded. Every ``--sample-every`` seconds it records the RSS of the gateway, of TorchServe's
frontend and of each worker, and the window's requests, statuses and latency. At the end it
prints a Markdown table (target: 0 errors, RSS growth < 5 % over the last 20 minutes) and
writes every sample to ``var/bench/soak.json``. Both servers are stopped on exit, Ctrl-C too.

Latency is the ``POST /v1/analyses`` time; an error is a timeout or connection error, a POST
that is not 201, a DELETE that is not 204, or an arrival dropped because ``--max-in-flight``
requests were already open.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from tqdm import tqdm

from bench.__main__ import DATASET, OUT_DIR, ROOT, rss_mb, sample_photo
from db.session import sqlite_url
from gateway.config import Settings
from gateway.consent.text import current_consent
from model_server.paths import MODEL_STORE_DIR
from model_server.tools import archive, serve

# Every bench analysis agrees to the consent of the default retention settings (each stack's).
CONSENT = current_consent(
    Settings.model_fields["retention_days"].default,
    Settings.model_fields["legacy_retention_days"].default,
).version
FORM = {"mbti": "INTJ", "birth_date": "1990-01-01", "consent": CONSENT}
LAST_WINDOW_S = 20 * 60  # the target: RSS growth < 5 % over the last 20 minutes
GROWTH_TARGET_PCT = 5.0
OUTPUT = OUT_DIR / "soak.json"
MODELS = list(serve.DEFAULT_MODELS)


# --- the stack: TorchServe and the gateway as separate processes ------------------------------


@dataclass(frozen=True)
class Stack:
    """The running servers of one soak."""

    var: Path
    torchserve: serve.Paths
    gateway: subprocess.Popen[bytes]
    base_url: str
    management_url: str
    inference_url: str


def gateway_env(var: Path, ts_ports: dict[str, int], port: int) -> dict[str, str]:
    """The environment of migrate, seed and the gateway: our own ALPHAMALE_* settings only."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAMALE_")}
    return {
        **inherited,
        "ALPHAMALE_VAR_DIR": str(var),
        "ALPHAMALE_DATABASE_URL": sqlite_url(var),  # explicit: a .env file must not redirect it
        "ALPHAMALE_STORAGE_BACKEND": "local",
        "ALPHAMALE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ALPHAMALE_MODEL_INFERENCE_URL": f"http://127.0.0.1:{ts_ports['inference']}",
        "ALPHAMALE_MODEL_MANAGEMENT_URL": f"http://127.0.0.1:{ts_ports['management']}",
    }


def run_module(module: list[str], env: dict[str, str]) -> None:
    """``python -m MODULE ...`` in the repository root; its output only if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", *module], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"`python -m {' '.join(module)}` failed:\n{done.stdout}{done.stderr}")


def start_gateway(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "gateway.main:serve_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers", "--no-access-log"]
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def tail(path: Path, lines: int = 30) -> str:
    text = path.read_text(errors="replace") if path.is_file() else ""
    return "\n".join(text.splitlines()[-lines:])


def wait_gateway_ready(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    """Poll ``GET /readyz`` until 200; fail early if the gateway exits."""
    deadline, last = time.monotonic() + timeout, "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gateway exited ({process.returncode}) during start-up:\n{tail(log)}")
        try:
            answer = httpx.get(f"{url}/readyz", timeout=5)
            if answer.status_code == 200:
                return
            last = f"{answer.status_code} {answer.text[:200]}"
        except httpx.HTTPError as error:
            last = repr(error)
        time.sleep(0.5)
    raise SystemExit(f"gateway not ready after {timeout:.0f} s ({last}):\n{tail(log)}")


def stop_gateway(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM (uvicorn shuts down gracefully), SIGKILL if it has not exited in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


@contextlib.contextmanager
def running_stack(
    keep_var: bool, ready_timeout: float, settings: dict[str, str] | None = None
) -> Iterator[Stack]:
    """TorchServe and the gateway on free loopback ports, both stopped on the way out;
    ``settings`` are extra ``ALPHAMALE_*`` variables of the gateway."""
    var = Path(tempfile.mkdtemp(prefix="alphamale-soak-"))
    ts_port, mgmt_port, metrics_port, port = serve.free_ports(4)
    ts_ports = {"inference": ts_port, "management": mgmt_port, "metrics": metrics_port}
    env = gateway_env(var, ts_ports, port) | (settings or {})
    log = var / "gateway.log"
    gateway: subprocess.Popen[bytes] | None = None
    keep = keep_var
    try:
        print(f"Starting TorchServe and the gateway (state in {var}) ...", flush=True)
        paths = serve.start(MODEL_STORE_DIR, var / "ts", ts_ports, MODELS)
        run_module(["gateway.cli.migrate", "upgrade"], env)
        run_module(["gateway.cli.seed"], env)
        gateway = start_gateway(env, port, log)
        base_url = f"http://127.0.0.1:{port}"
        wait_gateway_ready(base_url, gateway, log, ready_timeout)
        yield Stack(
            var,
            paths,
            gateway,
            base_url,
            env["ALPHAMALE_MODEL_MANAGEMENT_URL"],
            env["ALPHAMALE_MODEL_INFERENCE_URL"],
        )
    except (Exception, SystemExit):
        keep = True  # a failure: keep the logs (Ctrl-C is neither)
        raise
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not skip the stop
            signal.signal(number, signal.SIG_IGN)
        print("Stopping the gateway and TorchServe ...", flush=True)
        if gateway is not None:
            stop_gateway(gateway)
        serve.stop(var / "ts")
        if keep:
            print(f"State and logs kept in {var}", flush=True)
        else:
            shutil.rmtree(var, ignore_errors=True)


# --- requests ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One arrival: an analysis created, then deleted."""

    latency_ms: float | None = None
    post_status: int | None = None
    delete_status: int | None = None
    error: str | None = None  # timeout, connection, status, dropped, unfinished


async def analyse_and_delete(client: httpx.AsyncClient, photo: bytes, limit_s: float) -> Outcome:
    outcome = Outcome()
    try:
        async with asyncio.timeout(limit_s):
            started = time.perf_counter()
            answer = await client.post(
                "/v1/analyses", data=FORM, files={"image": ("face.jpg", photo, "image/jpeg")}
            )
            outcome.latency_ms = (time.perf_counter() - started) * 1000
            outcome.post_status = answer.status_code
        token = answer.json().get("delete_token") if answer.status_code == 201 else None
        if token:
            async with asyncio.timeout(limit_s):
                deleted = await client.delete(
                    f"/v1/analyses/{answer.json()['id']}", headers={"X-Delete-Token": token}
                )
            outcome.delete_status = deleted.status_code
        if outcome.post_status != 201 or outcome.delete_status != 204:
            outcome.error = "status"
    except (TimeoutError, httpx.TimeoutException):
        outcome.error = "timeout"
    except httpx.HTTPError:
        outcome.error = "connection"
    return outcome


def photo_candidates(count: int) -> list[bytes]:
    """The bench's sample photo first, then other frontal London photos."""
    first = sample_photo()
    others = (p.read_bytes() for p in sorted(DATASET.glob("*_03.jpg")))
    return [first, *itertools.islice((o for o in others if o != first), count - 1)]


async def pick_photos(client: httpx.AsyncClient, count: int, limit_s: float) -> list[bytes]:
    """``count`` photos the gateway analyses (201), tried in order; also warms the stack up."""
    chosen: list[bytes] = []
    for photo in photo_candidates(4 * count):
        if (await analyse_and_delete(client, photo, limit_s)).error is None:
            chosen.append(photo)
        if len(chosen) == count:
            return chosen
    if not chosen:
        raise SystemExit("no London photo gave a 201 analysis: is the stack healthy?")
    return chosen


async def closed_loop(
    client: httpx.AsyncClient, photos: list[bytes], concurrency: int, seconds: float, limit_s: float
) -> list[Outcome]:
    """``concurrency`` workers, each analysing back to back until ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    counter = itertools.count()

    async def worker() -> list[Outcome]:
        done = []
        while time.monotonic() < deadline:
            photo = photos[next(counter) % len(photos)]
            done.append(await analyse_and_delete(client, photo, limit_s))
        return done

    results = await asyncio.gather(*(worker() for _ in range(concurrency)))
    return [outcome for outcomes in results for outcome in outcomes]


async def calibrate(
    client: httpx.AsyncClient, photos: list[bytes], args: argparse.Namespace
) -> dict[str, Any]:
    """Analyses per second at ``--concurrency`` after a warm-up (create + delete, as in soak)."""
    await closed_loop(client, photos, args.concurrency, args.warmup_seconds, args.timeout)
    started = time.monotonic()
    outcomes = await closed_loop(
        client, photos, args.concurrency, args.calibrate_seconds, args.timeout
    )
    elapsed = time.monotonic() - started
    ok = sum(o.error is None for o in outcomes)
    return {
        "concurrency": args.concurrency,
        "seconds": round(elapsed, 1),
        "requests": len(outcomes),
        "errors": len(outcomes) - ok,
        "capacity_per_s": ok / elapsed,
        "latency_ms": percentiles([o.latency_ms for o in outcomes if o.latency_ms is not None]),
    }


# --- recording ---------------------------------------------------------------------------------


def percentiles(latencies: list[float]) -> dict[str, float | None]:
    if len(latencies) < 2:
        only = latencies[0] if latencies else None
        return {"p50": only, "p95": only, "p99": only}
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}


def status_counts(outcomes: list[Outcome]) -> dict[str, int]:
    counts = Counter(f"POST {o.post_status}" for o in outcomes if o.post_status is not None)
    counts.update(f"DELETE {o.delete_status}" for o in outcomes if o.delete_status is not None)
    return dict(sorted(counts.items()))


def error_counts(outcomes: list[Outcome]) -> dict[str, int]:
    return dict(sorted(Counter(o.error for o in outcomes if o.error).items()))


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    latencies = [o.latency_ms for o in outcomes if o.latency_ms is not None]
    return {
        "requests": len(outcomes),
        "statuses": status_counts(outcomes),
        "errors": error_counts(outcomes),
        "latency_ms": percentiles(latencies),
    }


def own_rss_mb(pid: int) -> float | None:
    """One process's resident memory (without its children); None once it has gone."""
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.Error:
        return None


async def worker_pids(client: httpx.AsyncClient, management_url: str) -> dict[str, int]:
    """``{"face_check worker 1": pid, ...}`` from TorchServe's management API."""
    pids: dict[str, int] = {}
    for model in MODELS:
        try:
            answer = await client.get(f"{management_url}/models/{model}", timeout=5)
            workers = answer.json()[0].get("workers", [])
        except (httpx.HTTPError, ValueError, LookupError):
            continue
        for number, worker in enumerate(workers, 1):
            if worker.get("pid"):
                pids[f"{model} worker {number}"] = int(worker["pid"])
    return pids


async def memory_sample(client: httpx.AsyncClient, stack: Stack) -> dict[str, dict[str, Any]]:
    """RSS (MB) of the gateway, TorchServe's frontend, each worker, and TorchServe in all."""
    frontend = serve.read_pid(stack.torchserve) or 0
    pids = {"gateway": stack.gateway.pid, "torchserve frontend": frontend}
    pids.update(await worker_pids(client, stack.management_url))
    sample = {label: {"pid": pid, "rss_mb": own_rss_mb(pid)} for label, pid in pids.items()}
    with contextlib.suppress(psutil.Error):
        sample["torchserve total"] = {"pid": frontend, "rss_mb": rss_mb(frontend)}
        sample["torchserve total PSS"] = {"pid": frontend, "rss_mb": rss_mb(frontend, "pss")}
    return sample


@dataclass
class Recorder:
    """Everything the soak observed; filled in as it runs, so Ctrl-C leaves a partial record."""

    outcomes: list[Outcome] = field(default_factory=list)
    window: list[Outcome] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    in_flight: int = 0
    sent: int = 0
    errors: int = 0

    def record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.window.append(outcome)
        self.errors += outcome.error is not None

    async def sample(self, client: httpx.AsyncClient, stack: Stack, t: float) -> None:
        window, self.window = self.window, []
        self.samples.append(
            {
                "t_s": round(t, 1),
                "sent": self.sent,
                "in_flight": self.in_flight,
                "window": summarise(window),
                "rss": await memory_sample(client, stack),
            }
        )


# --- the soak ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What the soak offers, for how long, and its bounds."""

    rate: float
    duration_s: float
    sample_every: float
    max_in_flight: int
    timeout: float


async def sample_loop(
    client: httpx.AsyncClient, stack: Stack, recorder: Recorder, start: float, plan: Plan
) -> None:
    """A sample every ``plan.sample_every`` s from the soak's start until its planned end."""
    loop = asyncio.get_running_loop()
    for number in itertools.count(1):
        at = number * plan.sample_every
        if at >= plan.duration_s:
            return
        await asyncio.sleep(max(0.0, start + at - loop.time()))
        await recorder.sample(client, stack, loop.time() - start)


async def soak(
    client: httpx.AsyncClient,
    stack: Stack,
    photos: list[bytes],
    plan: Plan,
    recorder: Recorder,
) -> None:
    """Open-loop arrivals at ``plan.rate`` for ``plan.duration_s``, then drain (bounded)."""
    loop = asyncio.get_running_loop()
    interval, planned = 1 / plan.rate, int(plan.duration_s * plan.rate)
    tasks: set[asyncio.Task[None]] = set()
    progress = tqdm(total=planned, unit="req", desc="soak", dynamic_ncols=True)
    start = loop.time()

    async def one(photo: bytes) -> None:
        recorder.in_flight += 1
        try:
            outcome = await analyse_and_delete(client, photo, plan.timeout)
        finally:
            recorder.in_flight -= 1
        finish(outcome)

    def finish(outcome: Outcome) -> None:
        recorder.record(outcome)
        progress.update(1)
        progress.set_postfix(errors=recorder.errors, in_flight=recorder.in_flight, refresh=False)

    await recorder.sample(client, stack, 0.0)
    sampler = asyncio.create_task(sample_loop(client, stack, recorder, start, plan))
    try:
        for number in range(planned):
            await asyncio.sleep(max(0.0, start + number * interval - loop.time()))
            recorder.sent += 1
            if len(tasks) >= plan.max_in_flight:
                finish(Outcome(error="dropped"))
                continue
            task = asyncio.create_task(one(photos[number % len(photos)]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.sleep(max(0.0, start + plan.duration_s - loop.time()))
        await sampler
        await drain(tasks, 2 * plan.timeout + 5, finish)
        await recorder.sample(client, stack, loop.time() - start)
    finally:
        sampler.cancel()
        for task in tasks:
            task.cancel()
        progress.close()


async def drain(
    tasks: set[asyncio.Task[None]],
    grace_s: float,
    finish: Callable[[Outcome], None],
) -> None:
    """Wait for the open requests; those still open after ``grace_s`` count as errors."""
    if not tasks:
        return
    _, pending = await asyncio.wait(set(tasks), timeout=grace_s)
    for task in pending:
        task.cancel()
        finish(Outcome(error="unfinished"))
    await asyncio.gather(*pending, return_exceptions=True)


async def run(
    stack: Stack, args: argparse.Namespace, recorder: Recorder, record: dict[str, Any]
) -> None:
    """Calibrate, then soak: the calibration and plan go into ``record``, the rest to recorder."""
    limits = httpx.Limits(max_connections=args.max_in_flight + args.concurrency)
    async with httpx.AsyncClient(
        base_url=stack.base_url, timeout=args.timeout, limits=limits
    ) as client:
        photos = await pick_photos(client, args.photos, args.timeout)
        print(
            f"Calibrating: concurrency {args.concurrency}, {args.calibrate_seconds:.0f} s ...",
            flush=True,
        )
        calibration = await calibrate(client, photos, args)
        capacity = calibration["capacity_per_s"]
        if capacity <= 0:
            raise SystemExit(f"calibration completed no analysis: {calibration}")
        plan = Plan(
            rate=args.load * capacity,
            duration_s=args.minutes * 60,
            sample_every=args.sample_every,
            max_in_flight=args.max_in_flight,
            timeout=args.timeout,
        )
        print(
            f"Capacity {capacity:.2f}/s; offering {plan.rate:.2f}/s for {args.minutes:g} min "
            f"({len(photos)} photos in rotation)",
            flush=True,
        )
        record.update(photos=len(photos), calibration=calibration, plan=asdict(plan))
        await soak(client, stack, photos, plan, recorder)


# --- the report --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"cores": os.cpu_count(), "cpu": model, "load_average": os.getloadavg()}


def sample_near(samples: list[dict[str, Any]], t: float) -> dict[str, Any]:
    return min(samples, key=lambda s: abs(s["t_s"] - t))


def clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def whole(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def growth(before: float | None, after: float | None) -> float | None:
    return None if not before or after is None else (after - before) / before * 100


def memory_rows(samples: list[dict[str, Any]], duration_s: float) -> tuple[list[str], list[float]]:
    """One row per process: RSS at the soak's start, at ``duration - 20 min``, at its end."""
    first, last = samples[0], samples[-1]
    mark = sample_near(samples, max(0.0, duration_s - LAST_WINDOW_S))
    rows, growths = [], []
    for label in first["rss"]:
        values = [s["rss"].get(label, {}) for s in (first, mark, last)]
        pids = {s["rss"][label]["pid"] for s in samples if label in s["rss"]}
        change = growth(values[1].get("rss_mb"), values[2].get("rss_mb"))
        if change is not None:
            growths.append(change)
        restarted = " (restarted)" if len(pids) > 1 else ""
        rows.append(
            f"| {label}{restarted} | {'/'.join(map(str, sorted(pids)))} | "
            f"{whole(values[0].get('rss_mb'))} | {whole(values[1].get('rss_mb'))} | "
            f"{whole(values[2].get('rss_mb'))} | "
            f"{'-' if change is None else f'{change:+.1f} %'} |"
        )
    header = [
        f"| process | pid | RSS start (MB) | RSS at {clock(mark['t_s'])} (MB) | "
        f"RSS end {clock(last['t_s'])} (MB) | growth since {clock(mark['t_s'])} |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    return header + rows, growths


def counts(values: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in values.items()) or "none"


def report(record: dict[str, Any], samples: list[dict[str, Any]]) -> str:
    """The Markdown summary of one soak."""
    host, calibration, plan = record["machine"], record["calibration"], record["plan"]
    total = record["summary"]
    errors = sum(total["errors"].values())
    latency = total["latency_ms"]
    lines = [
        f"## AlphaMale soak ({plan['duration_s'] / 60:g} min, loopback)",
        "",
        "| what | value |",
        "| --- | --- |",
        f"| machine | {host['cores']} cores, {host['cpu']} |",
        f"| load average (1 min) start → end | {host['load_average'][0]:.2f} → "
        f"{record['load_average_end'][0]:.2f} |",
        f"| capacity (concurrency {calibration['concurrency']}, {calibration['seconds']} s) | "
        f"{calibration['capacity_per_s']:.2f} analyses/s (calibration errors: "
        f"{calibration['errors']}) |",
        f"| offered rate | {plan['rate']:.2f}/s ({record['load']:g} × capacity, one every "
        f"{1000 / plan['rate']:.0f} ms) |",
        f"| requests sent | {record['sent']} ({record['photos']} photos in rotation) |",
        f"| statuses | {counts(total['statuses'])} |",
        f"| errors | {errors} ({counts(total['errors'])}) |",
        f"| POST latency p50 / p95 / p99 | {whole(latency['p50'])} / {whole(latency['p95'])} / "
        f"{whole(latency['p99'])} ms |",
        "",
    ]
    rows, growths = memory_rows(samples, plan["duration_s"])
    worst = max(growths, default=0.0)
    verdict = "ok" if errors == 0 and worst < GROWTH_TARGET_PCT else "NOT MET"
    lines += [
        *rows,
        "",
        f"Target: 0 errors and RSS growth < {GROWTH_TARGET_PCT:g} % over the last 20 minutes: "
        f"errors {errors}, largest growth {worst:+.1f} % -> {verdict}.",
    ]
    if plan["duration_s"] < LAST_WINDOW_S:
        lines.append(
            "(A run shorter than 20 minutes measures growth over the whole soak, warm-up "
            "included: indicative only.)"
        )
    if record.get("interrupted"):
        lines.append("\nInterrupted: partial figures.")
    return "\n".join(lines)


def write_json(path: Path, record: dict[str, Any], samples: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**record, "samples": samples}, indent=2) + "\n")


# --- entry point -------------------------------------------------------------------------------


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--minutes", type=float, default=30, help="soak duration (default 30)")
    add("--load", type=float, default=0.5, help="offered rate as a fraction of capacity")
    add("--concurrency", type=int, default=8, help="calibration concurrency (default 8)")
    add("--calibrate-seconds", type=float, default=20, help="calibration length (default 20)")
    add("--warmup-seconds", type=float, default=5, help="warm-up before calibration")
    add("--sample-every", type=float, default=30, help="seconds between samples (default 30)")
    add("--max-in-flight", type=int, default=64, help="open requests cap; more are dropped")
    add("--photos", type=int, default=4, help="London photos in rotation (default 4)")
    add("--timeout", type=float, default=30, help="per-request timeout in s (default 30)")
    add("--ready-timeout", type=float, default=180, help="wait for the gateway's /readyz")
    add("--output", type=Path, default=OUTPUT, help=f"samples as JSON (default {OUTPUT})")
    add("--keep-var", action="store_true", help="keep the temp dir (logs, SQLite) afterwards")
    return parser


def raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(args: argparse.Namespace) -> int:
    if args.minutes <= 0 or args.load <= 0 or args.sample_every <= 0:
        raise SystemExit("--minutes, --load and --sample-every must be positive")
    signal.signal(signal.SIGTERM, raise_interrupt)  # `kill` stops the servers too
    archive.build_all(MODEL_STORE_DIR)
    recorder = Recorder()
    record: dict[str, Any] = {"machine": machine(), "load": args.load}
    try:
        with running_stack(args.keep_var, args.ready_timeout) as stack:
            asyncio.run(run(stack, args, recorder, record))
    except KeyboardInterrupt:
        record["interrupted"] = True
        if "plan" not in record or not recorder.samples:
            print("Interrupted before the soak began: no figures.", file=sys.stderr)
            return 130
    record.update(
        sent=recorder.sent,
        load_average_end=os.getloadavg(),
        summary=summarise(recorder.outcomes),
    )
    write_json(args.output, record, recorder.samples)
    print("\n" + report(record, recorder.samples))
    print(f"\nSamples: {args.output}")
    return 130 if record.get("interrupted") else 0


if __name__ == "__main__":
    sys.exit(main(get_args_parser().parse_args()))
