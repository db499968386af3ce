"""What the app's lifespan owns, made once per process: engine, sessions, one HTTP client,
storage, model client, metrics and their samples, the admission bound, the per-client rate and
its store, the caches (rendered images, catalog faces) and the decode budget.

A bag of resources: it builds no service and imports no domain. Each domain builds its services
from it in its own ``deps.py`` (per request, or in a CLI).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.session import create_engine, make_sessionmaker
from gateway.clients.storage import LocalStorage, S3Storage, Storage
from gateway.clients.torchserve import ModelServerClient
from gateway.config import Settings
from gateway.decode_budget import DecodeBudget
from gateway.face_index import FaceIndex
from gateway.metrics import Metrics
from gateway.metrics_history import MetricsHistory
from gateway.overload.clients import per_client
from gateway.overload.limiter import AdaptiveLimit
from gateway.overload.queue import AdmissionQueue
from gateway.overload.ratelimit import DatabaseStore, MemoryStore, Rate, Store
from gateway.render_cache import RenderCache


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    storage: Storage
    models: ModelServerClient
    metrics: Metrics
    rate: Rate
    renders: RenderCache
    decodes: DecodeBudget
    faces: FaceIndex
    history: MetricsHistory
    admission: AdmissionQueue | None = None
    rate_store: Store | None = None


def overload_guards(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> tuple[AdmissionQueue | None, Store | None]:
    """The process's admission bound and per-client rate store, as configured."""
    admission = (
        AdmissionQueue(
            AdaptiveLimit(
                initial=settings.admission_initial,
                maximum=settings.admission_max,
                budget_s=settings.admission_latency_budget_s,
                budget_factor=settings.admission_latency_factor,
            ),
            settings.admission_wait_budget_s,
            burst_window_s=settings.admission_burst_window_s,
        )
        if settings.admission_enabled
        else None
    )
    store: Store | None = None
    if settings.rate_limit_quota > 0:
        store = (
            DatabaseStore(sessions) if settings.rate_limit_store == "database" else MemoryStore()
        )
    return admission, store


def revealed(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret else None


async def open_storage(settings: Settings, stack: AsyncExitStack) -> Storage:
    if settings.storage_backend == "local":
        assert settings.storage_dir is not None
        return LocalStorage(settings.storage_dir, settings.public_base_url, settings.signing_secret)
    import aioboto3
    from botocore.config import Config

    secret = settings.s3_secret_access_key
    client = await stack.enter_async_context(
        aioboto3.Session().client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2}),
        )
    )
    storage = S3Storage(client, settings.s3_bucket)
    await storage.ensure_bucket()
    return storage


@asynccontextmanager
async def app_context(settings: Settings) -> AsyncIterator[AppContext]:
    async with AsyncExitStack() as stack:
        engine = create_engine(settings.database_url)
        stack.push_async_callback(engine.dispose)
        http = await stack.enter_async_context(
            httpx.AsyncClient(
                timeout=httpx.Timeout(settings.model_timeout_s, connect=2.0),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            )
        )
        sessions = make_sessionmaker(engine)
        admission, rate_store = overload_guards(settings, sessions)
        metrics = Metrics()
        if admission is not None:
            metrics.watch_admission(admission)
        history = MetricsHistory(metrics)
        await stack.enter_async_context(history.sampling())
        yield AppContext(
            settings=settings,
            engine=engine,
            sessions=sessions,
            storage=await open_storage(settings, stack),
            models=ModelServerClient(
                http,
                settings.model_inference_url,
                settings.model_management_url,
                settings.model_management_timeout_s,
                inference_key=revealed(settings.model_inference_key),
                management_key=revealed(settings.model_management_key),
            ),
            metrics=metrics,
            rate=per_client(settings),
            renders=RenderCache(settings.render_cache_mb * 1024 * 1024),
            decodes=DecodeBudget(round(settings.decode_budget_mp * 1_000_000)),
            faces=FaceIndex(),
            history=history,
            admission=admission,
            rate_store=rate_store,
        )
