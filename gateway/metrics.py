"""Prometheus metrics, one registry per app (so tests can build many apps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from gateway.overload.queue import AdmissionQueue


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "alphamale_http_requests", "HTTP requests", ["method", "route", "status"], registry=r
        )
        self.latency = Histogram(
            "alphamale_http_request_seconds", "HTTP request latency", ["route"], registry=r
        )
        self.analyses = Counter(
            "alphamale_analyses",
            "Analyses by outcome or error code",
            ["outcome", "client"],
            registry=r,
        )
        self.model_seconds = Histogram(
            "alphamale_model_request_seconds", "Model server latency", ["model"], registry=r
        )
        self.refused = Counter(
            "alphamale_refused",
            "Analyses refused before reading the body (rate_limited, overloaded)",
            ["code"],
            registry=r,
        )
        self.admission_limit = Gauge(
            "alphamale_admission_limit", "Analyses admitted at once (adaptive bound)", registry=r
        )
        self.admission_queue = Gauge(
            "alphamale_admission_queue", "Analyses waiting for a slot (the burst queue)", registry=r
        )
        self.admission_shedding = Gauge(
            "alphamale_admission_shedding",
            "1 while the overload is sustained and nobody may wait for a slot",
            registry=r,
        )
        self.admission_wait = Histogram(
            "alphamale_admission_wait_seconds",
            "Time an analysis waited for a slot (0 when one was free; refusals included)",
            buckets=(0.005, 0.05, 0.25, 0.5, 1, 2, 4, 8),
            registry=r,
        )
        self.orphans = Counter(
            "alphamale_orphan_objects",
            "Objects left behind after a failed compensation",
            registry=r,
        )

    def watch_admission(self, queue: AdmissionQueue) -> None:
        """The burst queue's gauges, read from the queue when scraped."""
        self.admission_queue.set_function(lambda: len(queue.waiting))
        self.admission_shedding.set_function(lambda: float(queue.shedding))

    def render(self) -> bytes:
        return generate_latest(self.registry)
