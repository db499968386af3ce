"""End to end through a real TorchServe: London faces in, typed results out, nothing half-written.

Needs ../shared/datasets/london-faces (real faces); skips with a message where it is absent.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text

from model_server.training import default_dataset_dir
from tests.fixtures.app import ADMIN, Api, running, settings_for
from tests.fixtures.s3 import S3Endpoint
from tests.fixtures.torchserve import TorchServeInstance

pytestmark = [pytest.mark.torchserve, pytest.mark.dataset]
DATASET = default_dataset_dir()


def london(stem: str = "004_03") -> bytes:
    path = DATASET / "images" / f"{stem}.jpg"
    if not path.is_file():
        pytest.skip(f"London Face set not found at {DATASET} (set ALPHAMALE_DATASET_DIR)")
    return path.read_bytes()


def form(image: bytes, **fields: str) -> dict:
    data = {"mbti": "INTJ", "birth_date": "1995-04-17"} | fields
    return {"data": data, "files": {"image": ("selfie.jpg", image, "image/jpeg")}}


def model_urls(ts: TorchServeInstance) -> dict[str, str]:
    return {"model_inference_url": ts.inference_url, "model_management_url": ts.management_url}


@pytest.fixture
async def live(
    tmp_path: Path, pg_database: str, s3_endpoint: S3Endpoint, torchserve: TorchServeInstance
) -> Api:
    async with running(
        settings_for(tmp_path, pg_database, s3_endpoint, **model_urls(torchserve))
    ) as api:
        await api.add_catalog(per_type=5)
        yield api


async def test_a_face_gets_a_type_and_can_be_deleted(live: Api) -> None:
    response = await live.client.post("/v1/analyses", **form(london()))
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["type"]["slug"] in {"alpha", "beta", "gamma", "delta", "omega"}
    assert result["type"]["description"]
    assert set(result["regions"]) == {"face", "t_zone", "jaw"}
    for region in result["regions"].values():
        assert region["found"] and region["presence"] >= 0.75 and len(region["polygon"]) == 4
    refs = result["references"]
    assert len(refs) == 4 and len({r["id"] for r in refs}) == 4
    assert result["model"]["name"] == "face_regions" and result["face_count"] == 1
    assert await live.count_rows() == 1 and len(await live.object_keys()) == 1
    stored = (await live.client.get(f"/v1/analyses/{result['id']}")).json()
    assert stored["type"] == result["type"] and stored["regions"] == result["regions"]
    assert stored["delete_token"] is None
    wrong = await live.client.delete(
        f"/v1/analyses/{result['id']}", headers={"X-Delete-Token": "x"}
    )
    assert wrong.status_code == 404 and await live.count_rows() == 1
    deleted = await live.client.delete(
        f"/v1/analyses/{result['id']}", headers={"X-Delete-Token": result["delete_token"]}
    )
    assert deleted.status_code == 204
    assert await live.nothing_stored()
    assert (await live.client.get(f"/v1/analyses/{result['id']}")).status_code == 404


async def test_json_data_url_and_idempotency(live: Api) -> None:
    body = {
        "image_base64": "data:image/jpeg;base64," + base64.b64encode(london("010_03")).decode(),
        "mbti": "enfp",
        "birth_date": "2001-12-31",
    }
    key = {"Idempotency-Key": "retry-me-1"}
    first = await live.client.post("/v1/analyses", json=body, headers=key)
    again = await live.client.post("/v1/analyses", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert (
        again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    )
    assert again.json()["delete_token"] is None and first.json()["mbti"] == "ENFP"
    changed = await live.client.post("/v1/analyses", json=body | {"mbti": "INTP"}, headers=key)
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_conflict"
    assert await live.count_rows() == 1 and len(await live.object_keys()) == 1


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


HELD_OUT = ("001_03", "031_03", "090_03")  # people the region detector never trained on
EYE_TO_CHIN = 171 / 640  # a London portrait's eye-to-chin share of its side (about, per person)


def shrunk(stem: str, eye_to_chin_px: float) -> Image.Image:
    """A London portrait scaled so its face is about ``eye_to_chin_px`` from eyes to chin."""
    photo = Image.open(io.BytesIO(london(stem))).convert("RGB")
    side = round(eye_to_chin_px / EYE_TO_CHIN)
    return photo.resize((side, side), Image.Resampling.LANCZOS)


async def test_domain_outcomes_store_nothing(live: Api) -> None:
    gradient = Image.linear_gradient("L").resize((400, 400)).convert("RGB")
    response = await live.client.post("/v1/analyses", **form(jpeg(gradient)))
    assert response.status_code == 422 and response.json()["code"] == "no_face"
    response = await live.client.post("/v1/analyses", **form(jpeg(shrunk("004_03", 20))))
    problem = response.json()
    assert response.status_code == 422 and problem["code"] == "face_too_small", problem
    assert problem["face_count"] == 1 and "closer" in problem["hint"]
    assert await live.nothing_stored()


async def test_the_face_size_floor(live: Api) -> None:
    """Above the measured floor (32 px eye-to-chin) a face gets a type; below it, a 422."""
    assert live.settings.min_face_px == 32
    for stem in HELD_OUT:
        response = await live.client.post("/v1/analyses", **form(jpeg(shrunk(stem, 44))))
        assert response.status_code == 201, (stem, response.text)
        assert all(region["found"] for region in response.json()["regions"].values())
        small = await live.client.post("/v1/analyses", **form(jpeg(shrunk(stem, 22))))
        assert small.json()["code"] == "face_too_small", (stem, small.text)


async def test_several_faces_are_counted_and_named(live: Api) -> None:
    """The largest face is analysed and the count reported; when it is small, crop, not 'closer'."""
    stems = HELD_OUT
    group = Image.new("RGB", (3 * 400, 440), (235, 235, 230))
    for i, stem in enumerate(stems):
        group.paste(shrunk(stem, 100 - 10 * i), (i * 400, 0))  # the first face is the largest
    response = await live.client.post("/v1/analyses", **form(jpeg(group)))
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["face_count"] == 3
    xs = [x for region in result["regions"].values() for x, _ in region["polygon"]]
    assert max(xs) < 400  # the regions drawn are on the largest (leftmost) face

    crowd = Image.new("RGB", (3 * 100, 120), (235, 235, 230))
    for i, stem in enumerate(stems):
        crowd.paste(shrunk(stem, 24), (i * 100, 0))
    problem = (await live.client.post("/v1/analyses", **form(jpeg(crowd)))).json()
    assert problem["code"] == "face_too_small" and problem["face_count"] == 3, problem
    assert problem["detail"].startswith("3 faces were found") and "Crop" in problem["hint"]
    assert len(problem["face_box"]) == 4
    assert await live.count_rows() == 1


async def test_legacy_endpoint_keeps_the_seed_shapes(live: Api) -> None:
    def body(image: bytes) -> dict:
        user = {"user_img": base64.b64encode(image).decode(), "age": "1990-03-04", "mbti": "ESTJ"}
        return {"first_user": user, "result": {"human": "False"}}

    typed = await live.client.post("/api/RegisterResult", json=body(london("020_03")))
    assert typed.status_code == 200, typed.text
    answer = typed.json()
    assert set(answer) == {"human", "male_type", "dsc", "img1", "img2", "img3", "img4"}
    assert answer["human"] is True and answer["male_type"] in {
        "Alpha",
        "Beta",
        "Gamma",
        "Delta",
        "Omega",
    }
    assert answer["dsc"] and all(answer[f"img{i}"] for i in range(1, 5))
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (90, 160, 90)).save(buffer, "JPEG")
    none = (await live.client.post("/api/RegisterResult", json=body(buffer.getvalue()))).json()
    assert none == {
        "human": False,
        "male_type": None,
        "dsc": None,
        "img1": None,
        "img2": None,
        "img3": None,
        "img4": None,
    }
    async with live.context.sessions() as session:
        clients = (await session.execute(text("SELECT client FROM analyses"))).scalars().all()
    assert clients == ["legacy"]


async def test_ready_and_admin_models(live: Api) -> None:
    ready = await live.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    models = (await live.client.get("/v1/admin/models", headers=ADMIN)).json()
    assert {m["name"] for m in models} == {"face_check", "face_regions"}
    assert all(w["status"] == "READY" for m in models for v in m["versions"] for w in v["workers"])


async def test_storage_failure_is_503_and_stores_nothing(
    tmp_path: Path, pg_database: str, torchserve: TorchServeInstance
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("storage cannot write below a file")
    settings = settings_for(
        tmp_path, pg_database, None, storage_dir=blocker, **model_urls(torchserve)
    )
    async with running(settings) as api:
        response = await api.client.post("/v1/analyses", **form(london()))
        assert response.status_code == 503 and response.json()["code"] == "storage_unavailable"
        assert await api.count_rows() == 0


async def test_database_failure_is_503_and_removes_the_object(live: Api) -> None:
    async with live.context.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE analyses RENAME TO analyses_away"))
    try:
        response = await live.client.post("/v1/analyses", **form(london()))
        assert response.status_code == 503 and response.json()["code"] == "database_unavailable"
        assert await live.object_keys() == []
    finally:
        async with live.context.engine.begin() as connection:
            await connection.execute(text("ALTER TABLE analyses_away RENAME TO analyses"))
    assert await live.count_rows() == 0


async def test_admin_swaps_the_served_model_version(
    live: Api, face_regions_v2: Callable[[Path], str]
) -> None:
    """Register 2.0 through the admin API, make it default, see analyses follow, then undo."""
    mar = face_regions_v2(Path(__file__).parents[2] / "model_server/weights/face_regions.pt")
    admin = live.client
    registered = await admin.post("/v1/admin/models", headers=ADMIN, json={"archive": mar})
    assert registered.status_code == 201, registered.text
    default = await admin.put(
        "/v1/admin/models/face_regions/default", headers=ADMIN, json={"version": "2.0"}
    )
    assert default.status_code == 200, default.text
    result = (await live.client.post("/v1/analyses", **form(london()))).json()
    assert result["model"] == {"name": "face_regions", "version": "2.0"}
    scaled = await admin.put(
        "/v1/admin/models/face_regions/workers",
        headers=ADMIN,
        json={"min_workers": 1, "max_workers": 1, "version": "2.0"},
    )
    assert scaled.status_code == 200, scaled.text

    await admin.put("/v1/admin/models/face_regions/default", headers=ADMIN, json={"version": "1.0"})
    removed = await admin.delete("/v1/admin/models/face_regions/versions/2.0", headers=ADMIN)
    assert removed.status_code == 200, removed.text
    versions = (await admin.get("/v1/admin/models/face_regions", headers=ADMIN)).json()
    assert [v["modelVersion"] for v in versions] == ["1.0"]
    missing = await admin.delete("/v1/admin/models/face_regions/versions/2.0", headers=ADMIN)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
