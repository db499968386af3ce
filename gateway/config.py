"""Settings: one pydantic-settings class, environment prefix ``ALPHAMALE_``."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.contract import MAX_PIXELS
from db.session import sqlite_url


class Settings(BaseSettings):
    """Every setting, its default and meaning (the README's configuration table mirrors this)."""

    model_config = SettingsConfigDict(env_prefix="ALPHAMALE_", env_file=".env", extra="ignore")

    var_dir: Path = Field(Path("var"), description="Runtime state: SQLite file, local objects.")
    database_url: str = Field(
        "", description="SQLAlchemy async URL; empty means SQLite at $var_dir/alphamale.db."
    )
    public_base_url: str = Field(
        "http://127.0.0.1:8000", description="Base of the links the API returns."
    )
    storage_backend: Literal["local", "s3"] = Field("local", description="Object storage.")
    storage_dir: Path | None = Field(None, description="Local objects; default $var_dir/objects.")
    s3_bucket: str = Field("alphamale", description="S3 bucket (created if missing).")
    s3_endpoint_url: str | None = Field(None, description="S3 endpoint (MinIO); empty for AWS.")
    s3_region: str = Field("us-east-1", description="S3 region.")
    s3_access_key_id: str | None = Field(None, description="S3 key id; empty uses AWS defaults.")
    s3_secret_access_key: SecretStr | None = Field(None, description="S3 secret key.")
    model_inference_url: str = Field(
        "http://127.0.0.1:8080", description="TorchServe inference API."
    )
    model_management_url: str = Field(
        "http://127.0.0.1:8081", description="TorchServe management API (keep it private)."
    )
    model_timeout_s: float = Field(15.0, description="Per-request model server timeout.")
    model_management_timeout_s: float = Field(
        180.0,
        description="Timeout of model management calls (register, scale: they wait for workers "
        "to load, which takes far longer than a prediction on a busy CPU).",
    )
    model_inference_key: SecretStr | None = Field(
        None,
        description="Bearer key of the model server's inference API (the model server's own "
        "ALPHAMALE_MODEL_INFERENCE_KEY); unset sends none (a TorchServe without token auth).",
    )
    model_management_key: SecretStr | None = Field(
        None,
        description="Bearer key of the model server's management API (the model server's own "
        "ALPHAMALE_MODEL_MANAGEMENT_KEY); unset sends none.",
    )
    admin_token: SecretStr | None = Field(
        None, description="Bearer token of the admin API; unset disables the admin API."
    )
    signing_key: SecretStr = Field(
        default_factory=lambda: SecretStr(secrets.token_hex(32)),
        description="HMAC key of local-storage links (random per start if unset).",
    )
    max_upload_bytes: int = Field(10 * 1024 * 1024, description="Largest accepted image.")
    max_pixels: int = Field(
        MAX_PIXELS,
        le=MAX_PIXELS,
        description="Largest accepted image area (at most core.contract's, the model server's).",
    )
    # Measured by `python -m bench.face_floor` (London set, the served path, downscaled photos):
    # faces are found in 100 % of photos down to 12 px eye-to-chin (94.6 % at 10 px), and the
    # three part boxes keep their full-size agreement (worst-part IoU vs. the unshrunk photo,
    # median 0.92) down to 32 px, falling to 0.88 at 16 px and 0.85 at 12 px: 32 px is the floor.
    min_face_px: int = Field(32, description="Smallest eye-to-chin distance analysed (px).")
    min_image_side: int = Field(
        48,
        description="Shorter side (px) below which a photo is refused before any model call "
        "(a face at the eye-to-chin floor with its forehead needs about 1.5 times the floor).",
    )
    detect_side: int = Field(
        640,
        description="Longest side of the copy face_check looks at (faces below ~3 % of it are "
        "not found; the largest face is what is analysed).",
    )
    catalog_per_result: int = Field(4, description="Reference images in each result.")
    url_ttl_s: int = Field(3600, description="Lifetime of object links in answers.")
    retention_days: int = Field(30, description="Analyses older than this are purged.")
    idempotency_ttl_h: int = Field(24, description="How long an Idempotency-Key is honoured.")
    cors_origins: list[str] = Field(default_factory=list, description="Allowed CORS origins.")
    # Overload (POST /v1/analyses and the legacy endpoint; checked before the body is read)
    admission_enabled: bool = Field(True, description="Bound the analyses in flight.")
    admission_initial: int = Field(
        3, description="Analyses in flight at start (adapts): capacity x budget, measured here."
    )
    admission_max: int = Field(32, description="Most analyses in flight the bound may reach.")
    admission_latency_budget_s: float = Field(
        0.6,
        description="An analysis slower than this shrinks the bound, until one alone is measured.",
    )
    admission_latency_factor: float = Field(
        2.0,
        gt=0,
        description="Then the budget is this many times an analysis alone (smoothed), so it "
        "follows the machine (measured: 1.7x lost throughput under a spike, 3.3x let admitted "
        "analyses take 3-4x).",
    )
    admission_wait_budget_s: float = Field(
        6.0,
        description="Longest a request of a burst may take, waiting for a slot and analysed: one "
        "that the queue ahead would keep longer is refused at once; once the overload is "
        "sustained, nobody waits until this long passes without a refusal (0: no queue).",
    )
    admission_burst_window_s: float = Field(
        1.0,
        ge=0,
        description="Refusals going on longer than this (longer than a burst takes to arrive) "
        "mean the overload is sustained: the queue's waiters are refused and nobody waits.",
    )
    rate_limit_quota: int = Field(
        20, description="Analyses per client per period (0: no per-client limit)."
    )
    rate_limit_period_s: float = Field(60.0, description="The per-client limit's period.")
    rate_limit_store: Literal["memory", "database"] = Field(
        "memory", description="memory: this process; database: shared by every gateway process."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Proxies (IPs or CIDRs) whose X-Forwarded-For names the client.",
    )

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        self.var_dir = self.var_dir.resolve()
        if not self.database_url:
            self.database_url = sqlite_url(self.var_dir)
        if self.storage_dir is None:
            self.storage_dir = self.var_dir / "objects"
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
