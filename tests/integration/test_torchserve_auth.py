"""TorchServe with token authorization on, behind its guards (what the images run), and the
gateway's client: it works with the deployment's keys and is refused without them, and
TorchServe itself refuses every call that lacks its own key.

One extra TorchServe for this module, with the smallest model only (face_check).
"""

from __future__ import annotations

import io
import shutil
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image

from gateway.clients.torchserve import ModelServerClient
from gateway.errors import ModelUnavailable
from model_server.tools import serve
from tests.fixtures.services import free_ports, unavailable
from tests.fixtures.torchserve import stock_archives

pytestmark = pytest.mark.torchserve
MODEL = "face_check"
KEYS = {"inference": "i" * 40, "management": "m" * 40}


@dataclass(frozen=True)
class Guarded:
    inference_url: str  # the guards: what the gateway calls
    management_url: str
    torchserve: dict[str, str]  # TorchServe's own loopback addresses, by API
    own_keys: dict[str, str]  # TorchServe's own keys, by API
    key_file: Path


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guarded]:
    if shutil.which("java") is None:
        unavailable("TorchServe", "it needs Java 17 and `java` is not on PATH")
    store = tmp_path_factory.mktemp("auth_store")
    stock_archives(store, models=[MODEL])
    var = tmp_path_factory.mktemp("ts_auth")
    ports = dict(zip(serve.DEFAULT_PORTS, free_ports(len(serve.DEFAULT_PORTS)), strict=True))
    try:
        guards = serve.start_guarded(store, var, ports, [MODEL], KEYS, timeout=180)
    except serve.ServeError as error:
        pytest.fail(f"TorchServe did not start: {error}", pytrace=False)
    paths = serve.Paths.under(var)
    properties = serve.read_properties(paths.config)
    try:
        yield Guarded(
            inference_url=f"http://127.0.0.1:{ports['inference']}",
            management_url=f"http://127.0.0.1:{ports['management']}",
            torchserve={api: properties[f"{api}_address"] for api in KEYS},
            own_keys=serve.keys(paths),
            key_file=paths.key_file,
        )
    finally:
        for front in guards:
            front.shutdown()
            front.server_close()
        serve.stop(var)


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (160, 160), (128, 120, 110)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60) as client:
        yield client


async def test_the_gateways_client_works_with_the_keys(
    guarded: Guarded, http: httpx.AsyncClient
) -> None:
    client = ModelServerClient(
        http,
        guarded.inference_url,
        guarded.management_url,
        inference_key=KEYS["inference"],
        management_key=KEYS["management"],
    )
    assert (await client.ping())["status"] == "Healthy"
    assert (await client.face_check(jpeg())).faces == []
    assert [m["modelName"] for m in await client.list_models()] == [MODEL]


@pytest.mark.parametrize(
    "keys",
    [{}, {"inference_key": "x" * 40, "management_key": "y" * 40}, {"inference_key": "m" * 40}],
    ids=["none", "wrong", "management-as-inference"],
)
async def test_the_gateways_client_is_refused_without_the_keys(
    guarded: Guarded, http: httpx.AsyncClient, keys: dict[str, str]
) -> None:
    client = ModelServerClient(http, guarded.inference_url, guarded.management_url, **keys)
    for call in (client.face_check(jpeg()), client.list_models()):
        with pytest.raises(ModelUnavailable, match="401"):
            await call


def status_of(url: str, key: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10):
            return 200
    except urllib.error.HTTPError as error:
        return error.code


def test_torchserve_itself_wants_its_own_key(guarded: Guarded) -> None:
    """On its loopback ports TorchServe refuses (400 InvalidKeyException) a call without its own
    key, even /ping, and the deployment's key is not its key; its key file is its user's alone."""
    inference, management = guarded.torchserve["inference"], guarded.torchserve["management"]
    assert status_of(f"{inference}/ping") == 400
    assert status_of(f"{inference}/ping", KEYS["inference"]) == 400
    assert status_of(f"{inference}/ping", guarded.own_keys["inference"]) == 200
    assert status_of(f"{management}/models") == 400
    assert status_of(f"{management}/models", KEYS["management"]) == 400
    assert status_of(f"{management}/models", guarded.own_keys["inference"]) == 400
    assert status_of(f"{management}/models", guarded.own_keys["management"]) == 200
    assert all(url.startswith(f"http://{serve.LOOPBACK}:") for url in guarded.torchserve.values())
    assert guarded.key_file.stat().st_mode & 0o777 == 0o600
