"""The glance: this process's metrics over the last five minutes, and its admission bound now,
for the console (the samples are :mod:`gateway.metrics_history`'s)."""

from __future__ import annotations

import math

from gateway.glance.schemas import AdmissionNow, Glance
from gateway.metrics_history import Buckets, MetricsHistory
from gateway.overload.queue import AdmissionQueue


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
    """The window of ``history`` summed up; the admission bound read live."""

    def __init__(self, history: MetricsHistory, admission: AdmissionQueue | None = None) -> None:
        self.history = history
        self.admission = admission

    def glance(self) -> Glance:
        now, start = self.history.now()
        window = now.since(start)
        total = now.since(self.history.started)
        per_minute = 60 / window.at if window.at > 0 else 0.0
        analyses = sum(window.outcomes.values())
        refused = sum(window.refused.values())
        return Glance(
            uptime_s=round(total.at, 1),
            window_s=round(window.at, 1),
            since_start=start is self.history.started,
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
