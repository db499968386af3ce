"""An adaptive bound on analyses in flight (AIMD on a latency budget, as in TCP Vegas/AIMD and
Netflix's concurrency-limits).

Every finished analysis reports its latency. While the smoothed latency stays within the
budget and the bound was reached, the bound grows by one per bound's worth of completions
(additive increase); when a latency exceeds the budget, or the model server reports itself
overloaded, it shrinks by ``backoff`` (multiplicative decrease), then not again until a
bound's worth of completions has passed, so one burst of slow answers is not counted many
times. Requests beyond the bound are refused at once, so the ones admitted stay fast. Pure
logic, no clock: tests feed it latencies.

The budget follows the machine: once an analysis has run alone (nothing else admitted while it
ran), it is ``budget_factor`` times the smoothed latency of analyses alone, so a busy box or a
GPU box gets its own; ``budget_s`` holds until then.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class AdaptiveLimit:
    """The bound, its limits, and what it has seen."""

    initial: float
    minimum: int = 1
    maximum: int = 64
    budget_s: float = 2.0  # until an analysis alone has been measured
    budget_factor: float | None = None  # then this many times one alone (None: budget_s always)
    backoff: float = 0.8
    smoothing: float = 0.2  # weight of a new latency in the moving average
    limit: float = field(init=False)
    in_flight: int = field(default=0, init=False)
    latency_s: float | None = field(default=None, init=False)  # exponential moving average
    alone_s: float | None = field(default=None, init=False)  # the same, of analyses alone
    admissions: int = field(default=0, init=False)  # so far: none during a run means it ran alone
    since_decrease: int = field(default=1 << 30, init=False)  # the first signal counts

    def __post_init__(self) -> None:
        self.limit = float(min(self.maximum, max(self.minimum, self.initial)))

    @property
    def latency_budget_s(self) -> float:
        """An analysis slower than this shrinks the bound."""
        if self.budget_factor is None or self.alone_s is None:
            return self.budget_s
        return self.budget_factor * self.alone_s

    @property
    def bound(self) -> int:
        return max(self.minimum, int(self.limit))

    def try_acquire(self) -> bool:
        """Admit one more analysis when fewer than the bound are in flight."""
        if self.in_flight >= self.bound:
            return False
        self.in_flight += 1
        self.admissions += 1
        return True

    def release(
        self, latency_s: float | None, *, overloaded: bool = False, alone: bool = False
    ) -> None:
        """One admitted analysis finished after ``latency_s`` (None: it failed early, no signal).

        ``overloaded``: the model server answered "unavailable" or timed out; ``alone``: nothing
        else was admitted while it ran.
        """
        was_full = self.in_flight >= self.bound
        self.in_flight = max(0, self.in_flight - 1)
        if latency_s is None and not overloaded:
            return
        self.since_decrease += 1
        if latency_s is not None:
            self.latency_s = self._smoothed(self.latency_s, latency_s)
            if alone:
                self.alone_s = self._smoothed(self.alone_s, latency_s)
        budget_s = self.latency_budget_s
        if overloaded or (latency_s is not None and latency_s > budget_s):
            if self.since_decrease >= self.bound:
                self.limit = max(float(self.minimum), self.limit * self.backoff)
                self.since_decrease = 0
        elif was_full and self.latency_s is not None and self.latency_s <= budget_s:
            self.limit = min(float(self.maximum), self.limit + 1 / self.bound)

    def _smoothed(self, average: float | None, value: float) -> float:
        return value if average is None else (1 - self.smoothing) * average + self.smoothing * value

    def retry_after_s(self) -> int:
        """Seconds a refused client should wait: about one round of the analyses in flight."""
        return max(1, math.ceil(self.latency_s or 1.0))
