"""The admin glance's answer: what this gateway process saw over its recent window."""

from __future__ import annotations

from pydantic import BaseModel, Field

WINDOW = (
    "over the window (`window_s`): the last five minutes, or since this process started when it "
    "is younger"
)


class AdmissionNow(BaseModel):
    bound: int = Field(description="Analyses admitted at once now (the adaptive bound)")
    in_flight: int = Field(description="Analyses running now")
    waiting: int = Field(description="Analyses waiting for a slot now (the burst queue)")
    shedding: bool = Field(description="True while the overload is sustained and nobody may wait")


class Glance(BaseModel):
    """Figures of this gateway process alone (each process keeps its own), read from its
    in-process Prometheus registry; rates are counts divided by `window_s`, times 60."""

    uptime_s: float = Field(description="Seconds since this gateway process started")
    window_s: float = Field(
        description="Seconds the windowed figures cover: from the newest of this process's "
        "samples (one every 10 s) that is at least 300 s old, so 300-310 s; when the process is "
        "younger than that, since it started (then `since_start` is true)"
    )
    since_start: bool = Field(description="The window began when this process started")
    analyses: int = Field(
        description=f"Analyses answered {WINDOW}: a type or a refusal of the photo or input "
        "(each POST /v1/analyses or /api/RegisterResult that was admitted and read)"
    )
    analyses_per_minute: float = Field(description=f"`analyses` per minute {WINDOW}")
    outcomes: dict[str, int] = Field(
        description=f"`analyses` by outcome {WINDOW}: a type's slug or a problem code",
        examples=[{"beta": 3, "gamma": 5, "no_face": 1}],
    )
    p50_ms: float | None = Field(
        description=f"Median time of an admitted analysis, every outcome, {WINDOW}, in ms; "
        "interpolated within the latency histogram's buckets (as Prometheus's "
        "histogram_quantile does); null when there was none"
    )
    model_p50_ms: dict[str, float] = Field(
        description=f"Median time of a model server request, by model, {WINDOW}, in ms "
        "(interpolated likewise; models with no request left out)",
        examples=[{"face_check": 110.0, "face_regions": 74.5, "face_type": 60.2}],
    )
    refused: dict[str, int] = Field(
        description=f"Requests refused before their body was read, by code, {WINDOW}: "
        "`rate_limited` (429, analyses and group writes) and `overloaded` (503, analyses)",
        examples=[{"rate_limited": 0, "overloaded": 2}],
    )
    refused_per_minute: float = Field(description=f"All of `refused` per minute {WINDOW}")
    server_errors: int = Field(
        description=f"Answers with a 5xx status, any route, {WINDOW} (refusals not included)"
    )
    analyses_since_start: int = Field(description="Analyses answered since the process started")
    refused_since_start: int = Field(description="Refusals since the process started")
    admission: AdmissionNow | None = Field(
        description="The admission bound now; null when admission control is off"
    )
