"""This process's Prometheus counters sampled over a rolling window (what the glance reads).

Counters only grow, so a figure over a window is the current value minus the value of a sample
taken at the window's start. :class:`MetricsHistory` keeps a sample every ``SAMPLE_EVERY_S`` (a
task of the app's lifespan, and each read) and the newest one at least ``WINDOW_S`` old as the
window's start; until the process is that old, the start is the sample taken when it started.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.samples import Sample

from gateway.metrics import Metrics

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


class MetricsHistory:
    """Samples of ``metrics`` over the last ``window_s`` (one per gateway process)."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        window_s: float = WINDOW_S,
        every_s: float = SAMPLE_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metrics = metrics
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

    def now(self) -> tuple[Snapshot, Snapshot]:
        """A sample now (kept if due), and the window's start."""
        now = self.read()
        self.keep(now)
        return now, self.samples[0]
