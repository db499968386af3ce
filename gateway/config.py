"""Settings: one pydantic-settings class, environment prefix ``ALPHAMALE_``."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.parameters import MAX_PIXELS
from db.session import sqlite_url
from gateway.imaging import ImageLimits

MIN_SIGNING_KEY = 32
WEAK_SIGNING_KEYS = frozenset({"change-me", "changeme", "secret", "signing-key", "dev", "test"})


class UnsafeSettings(RuntimeError):
    """Settings a deployment must not start with (not a ValueError: pydantic would wrap it in
    a report that repeats every input value, secrets included)."""


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
    signing_key: SecretStr | None = Field(
        None,
        description="HMAC key of signed links and of the rate store's client hashes: at least "
        f"{MIN_SIGNING_KEY} characters, required outside the embedded default (SQLite and local "
        "files), where unset means a random key kept in $var_dir/signing.key (shared by every "
        "process using that directory).",
    )
    max_upload_bytes: int = Field(10 * 1024 * 1024, description="Largest accepted image.")
    max_pixels: int = Field(
        MAX_PIXELS,
        le=MAX_PIXELS,
        description="Largest accepted image area (at most core.parameters's, the model server's).",
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
    stored_photo_side: int = Field(
        1080,
        ge=320,
        description="Longest side of the stored photo (the cards crop a face of a few hundred "
        "px from it); the analysis itself sees the upload at up to 2048 px.",
    )
    decode_budget_mp: float = Field(
        48.0,
        ge=0,
        description="Megapixels one process decodes at once (uploads wait their turn; one "
        "always may go alone): eight 40 MP PNGs decode one after another, not together "
        "(0: no bound).",
    )
    render_cache_mb: int = Field(
        64,
        ge=0,
        description="Rendered cards and stories kept in each process (MB; least recently used "
        "out): a card is drawn once per version, not once per view.",
    )
    catalog_per_result: int = Field(4, description="Reference images in each result.")
    references: Literal["look-alike", "random"] = Field(
        "look-alike",
        description="look-alike: a result's references are the catalog faces of its type "
        "nearest the person's (random when the type has too few); random: always drawn at "
        "random.",
    )
    url_ttl_s: int = Field(3600, description="Lifetime of object links in answers.")
    retention_days: int = Field(30, ge=1, description="Analyses older than this are purged.")
    legacy_retention_days: int = Field(
        1,
        ge=1,
        description="Results of the legacy endpoint (no delete token: their person cannot delete "
        "them) are purged after this many days.",
    )
    group_retention_days: int | None = Field(
        None,
        ge=1,
        description="Groups with no start, join, leave or rotation for this long are purged "
        "(default: retention_days).",
    )
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
        description="Proxies (IPs or CIDRs, a JSON list) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed: the load balancer's subnets in production; empty: "
        "the peer is the client.",
    )
    hsts: bool = Field(
        True, description="Strict-Transport-Security on answers to HTTPS requests (one year)."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        """Each an IP or a CIDR: a typo must not silently trust nothing (or everything)."""
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR") from None
        return value

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        self.var_dir = self.var_dir.resolve()
        if not self.database_url:
            self.database_url = sqlite_url(self.var_dir)
        if self.storage_dir is None:
            self.storage_dir = self.var_dir / "objects"
        if self.group_retention_days is None:
            self.group_retention_days = self.retention_days
        return self

    @model_validator(mode="after")
    def _signing_key(self) -> Settings:
        """Outside the embedded default a strong key is required; in it, one is kept on disk."""
        key = self.signing_key.get_secret_value() if self.signing_key else ""
        if not self.embedded:
            weak = key.strip().lower() in WEAK_SIGNING_KEYS or len(key) < MIN_SIGNING_KEY
            if weak:
                raise UnsafeSettings(
                    "ALPHAMALE_SIGNING_KEY must be set to a random secret of at least "
                    f"{MIN_SIGNING_KEY} characters (e.g. `openssl rand -hex 32`) outside the "
                    "embedded default (SQLite and local files); every gateway process of one "
                    "deployment must share it."
                    if not key
                    else "ALPHAMALE_SIGNING_KEY is a default or too short: use a random secret "
                    f"of at least {MIN_SIGNING_KEY} characters (e.g. `openssl rand -hex 32`)."
                )
        elif not key:
            self.signing_key = SecretStr(local_signing_key(self.var_dir))
        return self

    @property
    def image_limits(self) -> ImageLimits:
        """The photos' limits (bytes, pixels, shortest side); the catalog's are the same."""
        return ImageLimits(
            max_bytes=self.max_upload_bytes,
            max_pixels=self.max_pixels,
            min_side=self.min_image_side,
        )

    @property
    def embedded(self) -> bool:
        """The embedded default: SQLite and local files (one machine, `make run`)."""
        return self.database_url.startswith("sqlite") and self.storage_backend == "local"

    @property
    def signing_secret(self) -> bytes:
        assert self.signing_key is not None  # set or refused by the validator
        return self.signing_key.get_secret_value().encode()


def local_signing_key(var_dir: Path) -> str:
    """The embedded default's key: made once in ``var_dir/signing.key`` (mode 0600), then read
    by every process that uses the directory, so that they all sign alike. The file appears
    whole (linked from a written temporary file): a process starting beside never reads half."""
    path = var_dir / "signing.key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=var_dir, prefix=".signing-")  # mode 0600
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs
            os.link(temporary, path)
        os.unlink(temporary)
    return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
