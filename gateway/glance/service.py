"""The glance: this process's Prometheus counters read back, over a rolling window it keeps.

Counters only grow, so a figure over a window is the current value minus the value of a sample
taken at the window's start. :class:`GlanceService` keeps a sample every ``SAMPLE_EVERY_S`` (a
task of the app's lifespan, and each answer) and the newest one at least ``WINDOW_S`` old as the
window's start; until the process is that old, the start is the sample taken when it started.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.samples import Sample

from gateway.glance.schemas import AdmissionNow, Glance
from gateway.metrics import Metrics
from gateway.overload.queue import AdmissionQueue

WINDOW_S = 300.0
SAMPLE_EVERY_S = 10.0
ANALYSIS_ROUTES = ("/v1/analyses", "/api/RegisterResult")  # the latency histogram's labels
REFUSALS = ("rate_limited", "overloaded")

Counts = dict[str, float]
Buckets = dict[float, float]  # a histogram's upper bounds -> cumulative counts


@dataclass(frozen=True)
class Snapshot:
    """What the glance reads from the registry, at one moment."""

    at: float
    outcomes: Counts
    refused: Counts
    server_errors: float
    latency: Buckets
    models: dict[str, Buckets]

    def since(self, earlier: Snapshot) -> Snapshot:
        """What happened between ``earlier`` and this one."""
        return Snapshot(
            at=self.at - earlier.at,
            outcomes=minus(self.outcomes, earlier.outcomes),
            refused=minus(self.refused, earlier.refused),
            server_errors=self.server_errors - earlier.server_errors,
            latency=minus(self.latency, earlier.latency),
            models={m: minus(b, earlier.models.get(m, {})) for m, b in self.models.items()},
        )


K = TypeVar("K")


def minus(now: dict[K, float], before: dict[K, float]) -> dict[K, float]:
    return {key: value - before.get(key, 0.0) for key, value in now.items()}


def samples(metric: MetricWrapperBase, suffix: str) -> Iterator[Sample]:
    """The metric's samples named ``<name><suffix>`` (``_total``, ``_bucket``)."""
    for family in metric.collect():
        yield from (s for s in family.samples if s.name == family.name + suffix)


def counts(metric: MetricWrapperBase, label: str) -> Counts:
    """A counter's totals by one of its labels (summed over the others)."""
    totals: Counts = {}
    for sample in samples(metric, "_total"):
        key = sample.labels[label]
        totals[key] = totals.get(key, 0.0) + sample.value
    return totals


def buckets_by(metric: MetricWrapperBase, label: str) -> dict[str, Buckets]:
    """A histogram's cumulative bucket counts by one of its labels (summed over the others)."""
    grouped: dict[str, Buckets] = {}
    for sample in samples(metric, "_bucket"):
        cumulative = grouped.setdefault(sample.labels[label], {})
        bound = float(sample.labels["le"])
        cumulative[bound] = cumulative.get(bound, 0.0) + sample.value
    return grouped


def summed(histograms: Iterable[Buckets]) -> Buckets:
    total: Buckets = {}
    for cumulative in histograms:
        for bound, count in cumulative.items():
            total[bound] = total.get(bound, 0.0) + count
    return total


def quantile(q: float, cumulative: Buckets) -> float | None:
    """The ``q`` quantile of a histogram, interpolated linearly within its bucket as
    Prometheus's ``histogram_quantile`` does (the highest finite bound for the +Inf bucket);
    None for an empty histogram."""
    bounds = sorted(cumulative)
    total = cumulative[bounds[-1]] if bounds else 0.0
    if total <= 0:
        return None
    rank = q * total
    lower = below = 0.0
    for bound in bounds:
        count = cumulative[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def milliseconds(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


class GlanceService:
    """Samples of ``metrics`` over the last ``window_s``; the admission bound read live."""

    def __init__(
        self,
        metrics: Metrics,
        admission: AdmissionQueue | None = None,
        *,
        window_s: float = WINDOW_S,
        every_s: float = SAMPLE_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
        self.admission = admission
        self.window_s = window_s
        self.every_s = every_s
        self.clock = clock
        self.started = self.read()
        self.samples: deque[Snapshot] = deque([self.started])

    def read(self) -> Snapshot:
        m = self.metrics
        routes = buckets_by(m.latency, "route")
        return Snapshot(
            at=self.clock(),
            outcomes=counts(m.analyses, "outcome"),
            refused=dict.fromkeys(REFUSALS, 0.0) | counts(m.refused, "code"),
            server_errors=sum(
                s.value for s in samples(m.requests, "_total") if s.labels["status"][0] == "5"
            ),
            latency=summed(routes.get(route, {}) for route in ANALYSIS_ROUTES),
            models=buckets_by(m.model_seconds, "model"),
        )

    def keep(self, snapshot: Snapshot) -> None:
        """Keep ``snapshot`` when the newest kept one is ``every_s`` old, and drop the samples
        older than the newest one that can start the window."""
        if snapshot.at - self.samples[-1].at >= self.every_s:
            self.samples.append(snapshot)
        start = snapshot.at - self.window_s
        while len(self.samples) > 1 and self.samples[1].at <= start:
            self.samples.popleft()

    @asynccontextmanager
    async def sampling(self) -> AsyncIterator[None]:
        """A sample every ``every_s`` while the context lasts (the app's lifespan)."""

        async def run() -> None:
            while True:
                await asyncio.sleep(self.every_s)
                self.keep(self.read())

        task = asyncio.create_task(run())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    def glance(self) -> Glance:
        now = self.read()
        self.keep(now)
        window = now.since(self.samples[0])
        total = now.since(self.started)
        per_minute = 60 / window.at if window.at > 0 else 0.0
        analyses = sum(window.outcomes.values())
        refused = sum(window.refused.values())
        return Glance(
            uptime_s=round(total.at, 1),
            window_s=round(window.at, 1),
            since_start=self.samples[0] is self.started,
            analyses=round(analyses),
            analyses_per_minute=round(analyses * per_minute, 2),
            outcomes={k: round(v) for k, v in sorted(window.outcomes.items()) if v > 0},
            p50_ms=milliseconds(quantile(0.5, window.latency)),
            model_p50_ms={
                model: p50
                for model, cumulative in sorted(window.models.items())
                if (p50 := milliseconds(quantile(0.5, cumulative))) is not None
            },
            refused={k: round(v) for k, v in window.refused.items()},
            refused_per_minute=round(refused * per_minute, 2),
            server_errors=round(window.server_errors),
            analyses_since_start=round(sum(total.outcomes.values())),
            refused_since_start=round(sum(total.refused.values())),
            admission=self.admission_now(),
        )

    def admission_now(self) -> AdmissionNow | None:
        queue = self.admission
        if queue is None:
            return None
        return AdmissionNow(
            bound=queue.limit.bound,
            in_flight=queue.limit.in_flight,
            waiting=len(queue.waiting),
            shedding=queue.shedding,
        )
