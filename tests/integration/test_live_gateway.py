"""The gateway as it is deployed: ``uvicorn gateway.main:serve_app --factory`` in its own
process (started as bench.soak and the browser tests start it), on the session's TorchServe.

What only a fresh process shows: the test process has pillow-heif's opener registered (the
in-process tests import gateway.imaging), so an HEIC photo analysed in process proves nothing
about the gateway registering it itself.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pillow_heif
import pytest
from PIL import Image

from bench.soak import start_gateway, stop_gateway, wait_gateway_ready
from core.dataset import default_dataset_dir
from gateway.config import Settings
from tests.browser.support import LiveStack, gateway_env
from tests.fixtures.app import CONSENT, settings_for
from tests.fixtures.services import free_port
from tests.fixtures.torchserve import TorchServeInstance

pytestmark = [pytest.mark.torchserve, pytest.mark.dataset]
READY_TIMEOUT_S = 120.0
FACE = default_dataset_dir() / "images" / "004_03.jpg"  # the e2e tests' default face


@pytest.fixture
async def live_gateway(
    tmp_path: Path, pg_database: str, torchserve: TorchServeInstance
) -> AsyncIterator[LiveStack]:
    """A gateway process on a fresh PostgreSQL database and local storage under ``tmp_path``."""
    log = tmp_path / "gateway.log"
    for attempt in range(3):  # a free port can be taken before uvicorn binds it
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        settings = settings_for(
            tmp_path,
            pg_database,
            None,
            model_inference_url=torchserve.inference_url,
            model_management_url=torchserve.management_url,
            model_timeout_s=Settings.model_fields["model_timeout_s"].default,
            public_base_url=base_url,
        )
        process = start_gateway(gateway_env(settings), port, log)
        try:
            await asyncio.to_thread(wait_gateway_ready, base_url, process, log, READY_TIMEOUT_S)
        except SystemExit as error:  # bench.soak's way of saying it did not start
            await asyncio.to_thread(stop_gateway, process)
            if "address already in use" in str(error).lower() and attempt < 2:
                continue
            pytest.fail(f"the live gateway did not start: {error}", pytrace=False)
        break
    try:
        yield LiveStack(base_url, settings, log)
    finally:
        await asyncio.to_thread(stop_gateway, process)


def heic_with_exif(photo: bytes) -> bytes:
    """``photo`` as an iPhone would send it: HEIC with camera and GPS EXIF tags."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 59.0), 3: "E", 4: (126.0, 58.0, 41.0)}  # GPS
    buffer = io.BytesIO()
    image = Image.open(io.BytesIO(photo)).convert("RGB")
    pillow_heif.from_pillow(image).save(buffer, quality=90, exif=exif.tobytes())
    data = buffer.getvalue()
    assert data[4:12] == b"ftypheic"
    assert pillow_heif.open_heif(data).info["exif"]  # what the gateway must strip
    return data


async def test_a_heic_face_is_analysed_and_stored_as_jpeg_without_exif(
    live_gateway: LiveStack,
) -> None:
    if not FACE.is_file():
        pytest.skip(f"London Face set not found at {FACE.parent} (set ALPHAMALE_DATASET_DIR)")
    heic = heic_with_exif(FACE.read_bytes())
    async with httpx.AsyncClient(base_url=live_gateway.base_url, timeout=120) as client:
        response = await client.post(
            "/v1/analyses",
            data={"mbti": "INTJ", "birth_date": "1995-04-17", "consent": CONSENT},
            files={"image": ("IMG_0001.HEIC", heic, "image/heic")},
        )
        assert response.status_code == 201, response.text
        result = response.json()
        assert result["face_count"] == 1 and set(result["regions"]) == {"face", "t_zone", "jaw"}
        assert (await client.get(f"/v1/analyses/{result['id']}")).status_code == 200

    storage_dir = live_gateway.settings.storage_dir
    assert storage_dir is not None
    [stored] = [path for path in (storage_dir / "uploads").rglob("*") if path.is_file()]
    assert stored.suffix == ".jpg"
    data = stored.read_bytes()
    assert data[:3] == b"\xff\xd8\xff"  # JPEG, not the HEIC container
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == Image.open(FACE).size
    assert not image.getexif() and "exif" not in image.info


async def test_the_process_logs_no_token_id_or_address_of_a_request_cycle(
    live_gateway: LiveStack,
) -> None:
    """The deployed command's own output (uvicorn's and ours) after an analysis, an owner's
    read, a delete token put in a URL (refused) and the delete: routes only."""
    if not FACE.is_file():
        pytest.skip(f"London Face set not found at {FACE.parent} (set ALPHAMALE_DATASET_DIR)")
    async with httpx.AsyncClient(base_url=live_gateway.base_url, timeout=120) as client:
        created = await client.post(
            "/v1/analyses",
            data={"mbti": "INTJ", "birth_date": "1995-04-17", "consent": CONSENT},
            files={"image": ("face.jpg", FACE.read_bytes(), "image/jpeg")},
        )
        assert created.status_code == 201, created.text
        analysis_id, token = created.json()["id"], created.json()["delete_token"]
        path = f"/v1/analyses/{analysis_id}"
        assert (await client.get(path, headers={"X-Delete-Token": token})).status_code == 200
        assert (await client.delete(f"{path}?token={token}")).status_code == 400
        assert (await client.delete(path, headers={"X-Delete-Token": token})).status_code == 204
    log = live_gateway.log.read_text()
    assert "POST /v1/analyses 201 " in log and "DELETE /v1/analyses/{analysis_id} 400 " in log
    for secret in (token, analysis_id, "token="):
        assert secret not in log
    assert not re.search(r'\d+\.\d+\.\d+\.\d+:\d+ - "', log)  # uvicorn's client address
