"""Both storage backends round-trip; S3 over a real HTTP S3 API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from botocore.config import Config

from gateway.clients.storage import LocalStorage, S3Storage, Storage, new_key
from gateway.errors import NotFound, StorageUnavailable
from tests.fixtures.app import running, settings_for
from tests.fixtures.s3 import S3Endpoint, bucket_names, s3_client, temporary_bucket


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "objects", "http://testserver", b"k" * 32)
        return
    endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
    async with temporary_bucket(endpoint) as s3:
        yield s3


async def test_round_trip(storage: Storage) -> None:
    await storage.ping()
    key = new_key("uploads", "jpg")
    assert not await storage.exists(key)
    await storage.put(key, b"\xff\xd8hello", "image/jpeg")
    assert await storage.exists(key)
    assert await storage.get(key) == b"\xff\xd8hello"
    await storage.delete(key)
    assert not await storage.exists(key)
    with pytest.raises(NotFound):
        await storage.get(key)
    await storage.delete(key)  # idempotent


async def test_keys_are_server_generated_and_checked(storage: Storage) -> None:
    a, b = new_key("uploads", "png"), new_key("uploads", "png")
    assert a != b and a.startswith("uploads/") and a.endswith(".png")
    for bad in ("../etc/passwd", "/abs.jpg", "uploads/../../x.jpg", "UP/x.jpg", "x"):
        with pytest.raises(NotFound):
            await storage.put(bad, b"x", "image/jpeg")


async def test_s3_presigned_url_serves_the_object(s3_endpoint: S3Endpoint) -> None:
    async with temporary_bucket(s3_endpoint) as s3:
        key = new_key("catalog", "png")
        await s3.put(key, b"png-bytes", "image/png")
        url = await s3.url(key, expires_in=60)
        async with httpx.AsyncClient() as http:
            response = await http.get(url)
        assert response.status_code == 200 and response.content == b"png-bytes"


async def test_a_temporary_bucket_is_deleted_with_its_objects(s3_endpoint: S3Endpoint) -> None:
    """Tests leave no bucket behind on the S3 API (a shared MinIO or endpoint outlives them)."""
    async with temporary_bucket(s3_endpoint) as s3:
        await s3.put(new_key("uploads", "jpg"), b"\xff\xd8x", "image/jpeg")
        assert s3.bucket in await bucket_names(s3_endpoint)
    assert s3.bucket not in await bucket_names(s3_endpoint)


async def test_the_app_bucket_is_deleted_after_the_test(
    tmp_path: Path, pg_database: str, s3_endpoint: S3Endpoint
) -> None:
    """The bucket the gateway creates at start (``running``, on ``settings_for``'s new name)."""
    async with running(settings_for(tmp_path, pg_database, s3_endpoint)) as api:
        await api.context.storage.put(new_key("uploads", "jpg"), b"\xff\xd8x", "image/jpeg")
        assert await api.object_keys() != []
        bucket = api.settings.s3_bucket
        assert bucket in await bucket_names(s3_endpoint)
    assert bucket not in await bucket_names(s3_endpoint)


async def test_s3_unreachable_is_storage_unavailable() -> None:
    nowhere = S3Endpoint("http://127.0.0.1:9", "x", "x")  # discard port: nothing listens
    config = Config(connect_timeout=1, retries={"max_attempts": 1})
    async with s3_client(nowhere, config=config) as client:
        with pytest.raises(StorageUnavailable):
            await S3Storage(client, "nowhere").put("uploads/a.jpg", b"x", "image/jpeg")


async def test_local_urls_are_signed_and_expire(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, "http://testserver/", b"s" * 32)
    url = urlparse(await storage.url("catalog/a.png", expires_in=60))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == "/v1/files/catalog/a.png"
    assert storage.verify("catalog/a.png", int(query["expires"]), query["signature"])
    assert not storage.verify("catalog/b.png", int(query["expires"]), query["signature"])
    assert not storage.verify("catalog/a.png", 1, storage.signature("catalog/a.png", 1))


async def test_local_write_failure_is_storage_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageUnavailable):
        await LocalStorage(blocker, "http://t", b"k").put("uploads/a.jpg", b"x", "image/jpeg")
