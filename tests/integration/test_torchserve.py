"""The gateway's ModelServerClient against a real TorchServe (session fixture)."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch
import yaml
from PIL import Image

from core.crop import upright_crop
from core.dataset import default_dataset_dir
from core.schemas import RegionsAnswer, TypeAnswer
from gateway.clients.torchserve import OCTET_STREAM, ModelServerClient
from gateway.errors import (
    Conflict,
    ImageCorrupt,
    ImageTooLarge,
    ImageTooSmall,
    ModelUnavailable,
    NotFound,
)
from model_server.paths import CONFIG_DIR, WEIGHTS_DIR
from model_server.runtime.checkpoint import make_untrained_checkpoint
from model_server.runtime.handlers.face_type import FaceTypeHandler
from model_server.tools import archive
from model_server.tools.dlib_weights import converted
from model_server.tools.worker_context import local_context, model_config
from tests.fixtures.services import free_ports
from tests.fixtures.torchserve import MODELS, TorchServeInstance, stock_archives
from tests.london_pins import PINNED

LONDON = default_dataset_dir() / "images"
PHOTOS = [LONDON / f"{n:03d}_03.jpg" for n in (1, 2, 3)]
TYPES = {"alpha", "beta", "gamma", "delta", "omega"}
WEIGHTS = WEIGHTS_DIR


@pytest.fixture
def server(torchserve: TorchServeInstance) -> TorchServeInstance:
    return torchserve


@pytest.fixture
async def client(server: TorchServeInstance) -> AsyncIterator[ModelServerClient]:
    async with httpx.AsyncClient(timeout=60) as http:
        yield ModelServerClient(http, server.inference_url, server.management_url)


@pytest.fixture
def photos() -> list[bytes]:
    if not all(p.is_file() for p in PHOTOS):
        pytest.skip(f"London faces not found under {LONDON}")
    return [p.read_bytes() for p in PHOTOS]


async def versions_once_ready(
    client: ModelServerClient, name: str, version: str, timeout_s: float = 120
) -> dict[str, dict]:
    """Every version of ``name``, once ``version``'s workers are all READY: TorchServe answers a
    synchronous registration a few ms before its worker thread records READY (seen on a busy
    machine as ``UNLOADING``), so the state is polled, not read once."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        versions = {v["modelVersion"]: v for v in await client.describe(name, "all")}
        states = [w["status"] for w in versions.get(version, {}).get("workers", [])]
        if (states and set(states) == {"READY"}) or asyncio.get_running_loop().time() > deadline:
            return versions
        await asyncio.sleep(0.2)


async def face_crop(client: ModelServerClient, photo: bytes) -> bytes:
    """What the gateway sends face_regions: the largest face, upright, as JPEG."""
    face = (await client.face_check(photo)).faces[0]
    marks = face.landmarks
    image = Image.open(io.BytesIO(photo)).convert("RGB")
    crop = upright_crop(image, face.box, marks.left_eye, marks.right_eye)
    buffer = io.BytesIO()
    crop.image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


torchserve_only = pytest.mark.torchserve


@torchserve_only
async def test_ping_and_list(client: ModelServerClient) -> None:
    assert (await client.ping())["status"] == "Healthy"
    names = {m["modelName"] for m in await client.list_models()}
    assert {"face_check", "face_regions", "face_type"} <= names


@torchserve_only
async def test_every_model_answers_real_photos(
    client: ModelServerClient, photos: list[bytes]
) -> None:
    for photo in photos:
        found = await client.face_check(photo)
        assert found.count == 1 and found.faces[0].confidence >= 0.9
        assert set(found.faces[0].landmarks.model_dump()) == {
            "left_eye", "right_eye", "nose", "mouth_left", "mouth_right"
        }  # fmt: skip
        crop = await face_crop(client, photo)
        regions = await client.face_regions(crop)
        assert regions.complete and set(regions.regions) == {"face", "t_zone", "jaw"}
        assert regions.model.name == "face_regions" and regions.model.version == "1.0"
        assert (regions.width, regions.height) == (320, 320)
        typed = await client.face_type([crop])
        assert typed.type in TYPES and set(typed.regions) == {"face", "t_zone", "jaw"}
        assert typed.score == sum(r.points for r in typed.regions.values())
        assert typed.model.name == "face_type" and (typed.width, typed.height) == (320, 320)


@torchserve_only
async def test_bad_and_oversized_images(client: ModelServerClient) -> None:
    with pytest.raises(ImageCorrupt):
        await client.face_check(b"definitely not a JPEG")
    with pytest.raises(ImageCorrupt):
        await client.face_regions(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(ImageCorrupt):
        await client.face_type([b"GIF89a broken"])
    with pytest.raises(ImageTooLarge):  # above max_request_size (16 MiB)
        await client.face_check(b"\0" * (17 * 1024 * 1024))
    tiny = io.BytesIO()
    Image.new("RGB", (1, 1)).save(tiny, "PNG")
    with pytest.raises(ImageTooSmall):  # once a 503 "try again": the input crashed MTCNN
        await client.face_check(tiny.getvalue())


@torchserve_only
async def test_unknown_model_and_disallowed_urls(client: ModelServerClient) -> None:
    with pytest.raises(NotFound):
        await client.describe("no_such_model")
    with pytest.raises(NotFound):
        await client.unregister("no_such_model")
    with pytest.raises(ModelUnavailable) as raised:
        await client.predict("no_such_model", b"x")
    assert raised.value.headers == {"Retry-After": "5"}
    with pytest.raises(NotFound, match="allowed URL"):  # allowed_urls: no downloads
        await client.register("https://example.com/face_regions.mar")
    with pytest.raises(NotFound, match="Relative path"):
        await client.register("../model_store/face_regions.mar")
    with pytest.raises(Conflict):  # version 1.0 is already registered
        await client.register("face_regions.mar")


@torchserve_only
async def test_second_version_register_default_follow_unregister(
    client: ModelServerClient,
    server: TorchServeInstance,
    photos: list[bytes],
    model_v2: Callable[..., str],
) -> None:
    checkpoint = make_untrained_checkpoint(server.var / "v2" / "face_regions.pt", seed=1)
    mar = model_v2("face_regions", checkpoint)
    crop = await face_crop(client, photos[0])
    before = await client.face_regions(crop)

    await client.register(mar, initial_workers=1, synchronous=True)
    versions = await versions_once_ready(client, "face_regions", "2.0")
    assert set(versions) == {"1.0", "2.0"}
    assert [w["status"] for w in versions["2.0"]["workers"]] == ["READY"]
    assert (await client.face_regions(crop)).model.version == "1.0"  # still default

    await client.set_default("face_regions", "2.0")
    after = await client.face_regions(crop)
    assert after.model.version == "2.0"
    assert after.regions != before.regions  # other weights, other answer
    pinned = await client.predict("face_regions", crop, version="1.0")
    assert pinned["model"]["version"] == "1.0"
    assert RegionsAnswer.model_validate(pinned).regions == before.regions
    with pytest.raises(NotFound):
        await client.set_default("face_regions", "9.9")

    await client.set_default("face_regions", "1.0")
    await client.unregister("face_regions", "2.0")
    assert [v["modelVersion"] for v in await client.describe("face_regions", "all")] == ["1.0"]
    assert (await client.face_regions(crop)).model.version == "1.0"
    with pytest.raises(NotFound):
        await client.describe("face_regions", "2.0")


def configured_workers(name: str) -> tuple[int, int]:
    """``minWorkers`` and ``maxWorkers`` of ``model_server/config/<name>.yaml``: what the session's
    TorchServe serves (and must serve again after a test scaled it)."""
    config = yaml.safe_load((CONFIG_DIR / f"{name}.yaml").read_text())
    return int(config["minWorkers"]), int(config["maxWorkers"])


@torchserve_only
async def test_scale_workers(client: ModelServerClient, photos: list[bytes]) -> None:
    """Scaling face_check up serves with the new workers; it is restored to its configuration."""
    low, high = configured_workers("face_check")
    more = low + 1  # a count other than the configured one, whatever the yaml says
    await client.scale("face_check", more, max(high, more))
    try:
        [described] = await client.describe("face_check")
        assert [w["status"] for w in described["workers"]] == ["READY"] * more
        assert (await client.face_check(photos[0])).count == 1
    finally:
        await client.scale("face_check", low, high)
    [described] = await client.describe("face_check")
    assert (described["minWorkers"], described["maxWorkers"]) == (low, high)
    assert len(described["workers"]) == low


def test_archives_are_never_built_in_the_repository_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's TorchServe gets its archives without writing to ``model_store/``: an up to
    date archive there is copied, a stale or missing one is built into the private store."""
    built, store = tmp_path / "model_store", tmp_path / "private"
    built.mkdir()
    store.mkdir()
    fresh = MODELS[0]
    (built / f"{fresh}.mar").write_bytes(b"up to date")
    builds: list[tuple[str, Path]] = []

    def build(spec: archive.ArchiveSpec, where: Path, **options: object) -> bool:
        builds.append((spec.name, where))
        return True

    monkeypatch.setattr(archive, "is_up_to_date", lambda spec, where: spec.name == fresh)
    monkeypatch.setattr(archive, "build", build)

    stock_archives(store, built)

    assert builds == [(name, store) for name in MODELS if name != fresh]
    assert (store / f"{fresh}.mar").read_bytes() == b"up to date"
    assert sorted(p.name for p in built.iterdir()) == [f"{fresh}.mar"]


async def test_unreachable_model_server_is_model_unavailable() -> None:
    [port] = free_ports(1)  # nothing listens there
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(timeout=2) as http:
        client = ModelServerClient(http, url, url)
        for call in (client.face_check(b"x"), client.list_models(), client.ping()):
            with pytest.raises(ModelUnavailable) as raised:
                await call
            assert raised.value.status == 503
            assert raised.value.headers == {"Retry-After": "5"}


# --- face_type: pinned photos, several crops, the same bytes ----------------------------------
@pytest.fixture(scope="module")
def in_process() -> Iterator[tuple[FaceTypeHandler, Any]]:
    """The face_type handler in this process, as the archive serves it (one torch thread)."""
    threads = torch.get_num_threads()
    config = model_config("face_type", face_net=str(converted()))
    context = local_context("face_type", WEIGHTS, config, "type_model.json")
    handler = FaceTypeHandler()
    handler.initialize(context)
    yield handler, context
    torch.set_num_threads(threads)


async def typed(server: TorchServeInstance, body: bytes | dict) -> dict:
    """face_type's answer to raw crop bytes or a TypeRequest (JSON)."""
    url = f"{server.inference_url}/predictions/face_type"
    async with httpx.AsyncClient(timeout=60) as http:
        if isinstance(body, dict):
            response = await http.post(url, json=body)
        else:
            response = await http.post(url, content=body, headers=OCTET_STREAM)
    assert response.status_code == 200, response.text
    return response.json()


@torchserve_only
async def test_pinned_london_photos_through_torchserve_are_the_handler_in_process(
    client: ModelServerClient,
    server: TorchServeInstance,
    in_process: tuple[FaceTypeHandler, Any],
) -> None:
    """The six pinned photos: their pinned type through TorchServe, and the very answer (values,
    score, margin, descriptor) the handler gives the same crop bytes in this process."""
    if not all((LONDON / f"{name}.jpg").is_file() for name in PINNED):
        pytest.skip(f"London faces not found under {LONDON}")
    handler, context = in_process
    for name, expected in PINNED.items():
        crop = await face_crop(client, (LONDON / f"{name}.jpg").read_bytes())
        served = await typed(server, crop)
        assert served["type"] == expected, name
        assert served["near"] is None, name
        assert served == handler.handle([{"body": crop}], context)[0], name


@torchserve_only
async def test_several_crops_of_one_person_and_the_same_bytes_the_same_answer(
    client: ModelServerClient, server: TorchServeInstance
) -> None:
    """One request of two or three crops types them together and measures their descriptors'
    distances; identical crops get identical answers, sent alone, concurrently (TorchServe may
    batch them) or inside a TypeRequest."""
    names = ("001_03", "001_08", "002_03")
    if not all((LONDON / f"{name}.jpg").is_file() for name in names):
        pytest.skip(f"London faces not found under {LONDON}")
    crops = [await face_crop(client, (LONDON / f"{n}.jpg").read_bytes()) for n in names]
    encoded = [base64.b64encode(crop).decode() for crop in crops]
    two = TypeAnswer.model_validate(await typed(server, {"crops": encoded[:2]}))
    three = TypeAnswer.model_validate(await typed(server, {"crops": encoded}))
    assert (two.photos, three.photos) == (2, 3)
    assert two.identity.distances[0] == 0.0 < two.identity.distances[1] <= two.identity.threshold
    assert three.identity.distances[2] > three.identity.threshold  # another person
    alone = await typed(server, crops[0])
    together = await asyncio.gather(*(typed(server, crops[0]) for _ in range(6)))
    assert all(answer == alone for answer in together)
    assert await typed(server, {"crops": encoded[:1]}) == alone
    refused = await typed(server, {"crops": encoded + encoded[:1]})
    assert refused == {"error": "image_unprocessable"}
