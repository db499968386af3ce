"""End to end through a real TorchServe: London faces in, typed results out, nothing half-written.

Needs ../shared/datasets/london-faces (real faces); skips with a message where it is absent.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from PIL import Image
from sqlalchemy import text

from core.dataset import default_dataset_dir
from core.parameters import PART_THRESHOLD, SCORE_BOUNDS, SCORE_POINTS
from gateway.errors import StorageUnavailable
from model_server.paths import CONFIG_DIR, WEIGHTS_DIR
from model_server.runtime.checkpoint import make_untrained_checkpoint
from tests.fixtures.app import ADMIN, CONSENT, Api, running, settings_for
from tests.fixtures.s3 import S3Endpoint
from tests.fixtures.torchserve import TorchServeInstance

pytestmark = [pytest.mark.torchserve, pytest.mark.dataset]
DATASET = default_dataset_dir()
HELD_OUT = ("001_03", "031_03", "090_03")  # people the region detector never trained on


def london(stem: str = "004_03") -> bytes:
    path = DATASET / "images" / f"{stem}.jpg"
    if not path.is_file():
        pytest.skip(f"London Face set not found at {DATASET} (set ALPHAMALE_DATASET_DIR)")
    return path.read_bytes()


def form(image: bytes, **fields: str) -> dict:
    data = {"mbti": "INTJ", "birth_date": "1995-04-17", "consent": CONSENT} | fields
    return {"data": data, "files": {"image": ("selfie.jpg", image, "image/jpeg")}}


def legacy_body(image: bytes) -> dict:
    """The seed's mobile client's request."""
    user = {"user_img": base64.b64encode(image).decode(), "age": "1990-03-04", "mbti": "ESTJ"}
    return {"first_user": user, "result": {"human": "False"}, "consent": CONSENT}


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


WEIGHTS = WEIGHTS_DIR / "face_regions.pt"
TYPE_MODEL = WEIGHTS_DIR / "type_model.json"
LEGACY_NULLS = ("male_type", "dsc", "img1", "img2", "img3", "img4")
TYPES = ("alpha", "beta", "gamma", "delta", "omega")
IMAGES = ("card.png", "story.png")  # a share page's images


def expected_score_and_type(regions: dict) -> tuple[int, str]:
    """The seed's rule, restated from core.parameters: points per part, bounds top-down."""
    score = sum(SCORE_POINTS[part][TYPES.index(r["type"])] for part, r in regions.items())
    return score, next(name for bound, name in SCORE_BOUNDS if score > bound)


def with_gps(photo: bytes) -> bytes:
    """The photo with EXIF GPS and camera tags, as a phone would send it."""
    image = Image.open(io.BytesIO(photo))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 59.0), 3: "E", 4: (126.0, 58.0, 41.0)}  # GPS
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes(), quality=92)
    assert Image.open(io.BytesIO(buffer.getvalue())).getexif().get_ifd(0x8825)
    return buffer.getvalue()


@pytest.mark.parametrize("stem", HELD_OUT)
async def test_a_face_gets_the_type_its_regions_add_up_to(live: Api, stem: str) -> None:
    response = await live.client.post("/v1/analyses", **form(with_gps(london(stem))))
    assert response.status_code == 201, response.text
    result = response.json()
    assert set(result["regions"]) == {"face", "t_zone", "jaw"}
    for region in result["regions"].values():
        assert region["found"] and region["presence"] >= PART_THRESHOLD
        assert region["type"] in TYPES and len(region["polygon"]) == 4
        assert region["probability"] == region["probabilities"][region["type"]]
        assert region["strength"] in ("clear", "likely", "borderline")
    verdict = result["verdict"]
    assert verdict["combination"] == json.loads(TYPE_MODEL.read_text())["served"]
    assert (
        verdict["score"] == result["score"] == sum(r["points"] for r in result["regions"].values())
    )
    if verdict["combination"] == "seed_vote":
        assert (result["score"], result["type"]["slug"]) == expected_score_and_type(
            result["regions"]
        )
        assert verdict["explanation"].endswith(f": {result['type']['name']}")
        assert f"= {result['score']} > " in verdict["explanation"]
    assert result["type"]["description"] and result["type"]["description_ko"]
    assert result["model"]["name"] == "face_type" and result["face_count"] == 1

    refs = result["references"]
    catalog = await live.client.get(
        "/v1/admin/catalog", headers=ADMIN, params={"type": result["type"]["slug"]}
    )
    assert len(refs) == 4 and len({r["id"] for r in refs}) == 4
    assert {r["id"] for r in refs} <= {image["id"] for image in catalog.json()}
    async with httpx.AsyncClient(timeout=30) as web:  # presigned links of the S3 API
        for ref in refs:
            fetched = await web.get(ref["url"])
            assert fetched.status_code == 200 and Image.open(io.BytesIO(fetched.content)).size

    [key] = await live.object_keys()
    stored = Image.open(io.BytesIO(await live.context.storage.get(key)))
    assert not stored.getexif() and "exif" not in stored.info  # GPS and camera tags gone


async def test_a_result_reads_back_and_can_be_deleted(live: Api) -> None:
    big = Image.open(io.BytesIO(london())).resize((1600, 1600))  # as a phone's photo would be
    photo = io.BytesIO()
    big.save(photo, "JPEG", quality=92)
    result = (await live.client.post("/v1/analyses", **form(photo.getvalue()))).json()
    assert await live.count_rows() == 1 and len(await live.object_keys()) == 1
    owner = {"X-Delete-Token": result["delete_token"]}
    stored = (await live.client.get(f"/v1/analyses/{result['id']}", headers=owner)).json()
    assert stored["view"] == "owner" and stored["mbti"] == "INTJ"
    assert stored["type"] == result["type"] and stored["regions"] == result["regions"]
    assert stored["score"] == result["score"] and stored["delete_token"] is None
    public = (await live.client.get(f"/v1/analyses/{result['id']}")).json()
    assert public["view"] == "public" and public["regions"] == result["regions"]
    assert not {"mbti", "created_at", "birth_date", "delete_token"} & set(public)
    async with live.context.sessions() as session:
        row = (await session.execute(text("SELECT * FROM analyses"))).mappings().one()
    assert (row["birth_month"], row["consent_version"]) == ("1995-04", CONSENT)
    assert "1995-04-17" not in str(dict(row))  # the day of birth is not kept anywhere
    [key] = await live.object_keys()
    kept = Image.open(io.BytesIO(await live.context.storage.get(key)))
    assert kept.size == (1080, 1080)  # stored smaller than it was analysed (1600 px)
    assert row["stored_scale"] == pytest.approx(1080 / 1600)
    card = await live.client.get(f"/share/{result['id']}/card.png")  # drawn from the kept copy
    assert card.status_code == 200
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
        "consent": CONSENT,
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


async def serve_version_2(api: Api, mar: str, name: str = "face_regions") -> None:
    """Register the 2.0 archive through the admin API and make it the default."""
    registered = await api.client.post("/v1/admin/models", headers=ADMIN, json={"archive": mar})
    assert registered.status_code == 201, registered.text
    default = await api.client.put(
        f"/v1/admin/models/{name}/default", headers=ADMIN, json={"version": "2.0"}
    )
    assert default.status_code == 200, default.text


async def test_regions_incomplete_is_a_422_with_its_regions_and_stores_nothing(
    live: Api, model_v2: Callable[..., str], tmp_path: Path
) -> None:
    """A served detector that finds no part (an untrained one: its four classes score ~0.25,
    far below the part threshold): every face is regions_incomplete."""
    untrained = make_untrained_checkpoint(tmp_path / "face_regions.pt")
    await serve_version_2(live, model_v2("face_regions", untrained))

    response = await live.client.post("/v1/analyses", **form(london(HELD_OUT[0])))
    problem = response.json()
    assert response.status_code == 422 and problem["code"] == "regions_incomplete", problem
    assert set(problem["regions"]) == {"face", "t_zone", "jaw"}
    assert not any(region["found"] for region in problem["regions"].values())
    legacy = await live.client.post("/api/RegisterResult", json=legacy_body(london(HELD_OUT[0])))
    assert legacy.json() == {"human": True} | dict.fromkeys(LEGACY_NULLS)  # a face, no type
    assert await live.nothing_stored()


async def test_concurrent_retries_with_one_key_store_one_result(live: Api) -> None:
    key = {"Idempotency-Key": "double-tap"}
    first, second = await asyncio.gather(
        *(live.client.post("/v1/analyses", headers=key, **form(london())) for _ in range(2))
    )
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json()["id"] == second.json()["id"]
    assert sorted(r.headers.get("idempotent-replayed", "") for r in (first, second)) == [
        "",
        "true",
    ]
    assert await live.count_rows() == 1 and len(await live.object_keys()) == 1


async def test_an_expired_key_is_refused_not_replayed(live: Api) -> None:
    key = {"Idempotency-Key": "yesterday"}
    first = await live.client.post("/v1/analyses", headers=key, **form(london()))
    assert first.status_code == 201, first.text
    async with live.context.engine.begin() as connection:  # the key is now past its TTL
        await connection.execute(
            text("UPDATE analyses SET created_at = created_at - make_interval(hours => :h)"),
            {"h": live.settings.idempotency_ttl_h + 1},
        )
    again = await live.client.post("/v1/analyses", headers=key, **form(london()))
    assert again.status_code == 409 and again.json()["code"] == "idempotency_conflict"
    assert await live.count_rows() == 1 and len(await live.object_keys()) == 1


async def test_a_delete_while_storage_is_down_keeps_row_and_photo(
    live: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = (await live.client.post("/v1/analyses", **form(london()))).json()
    token = {"X-Delete-Token": result["delete_token"]}

    async def storage_down(key: str) -> None:
        raise StorageUnavailable("injected: S3 unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(live.context.storage, "delete", storage_down)
        response = await live.client.delete(f"/v1/analyses/{result['id']}", headers=token)
        assert response.status_code == 503 and response.json()["code"] == "storage_unavailable"
        assert await live.count_rows() == 1 and len(await live.object_keys()) == 1
    response = await live.client.delete(f"/v1/analyses/{result['id']}", headers=token)
    assert response.status_code == 204 and await live.nothing_stored()


async def test_references_follow_the_catalog(live: Api) -> None:
    """References are drawn when read: a short catalog gives fewer than four, none repeated."""
    result = (await live.client.post("/v1/analyses", **form(london()))).json()
    slug = result["type"]["slug"]
    catalog = await live.client.get("/v1/admin/catalog", headers=ADMIN, params={"type": slug})
    for image in catalog.json()[2:]:
        removed = await live.client.delete(f"/v1/admin/catalog/{image['id']}", headers=ADMIN)
        assert removed.status_code == 204
    again = (await live.client.get(f"/v1/analyses/{result['id']}")).json()
    assert len(again["references"]) == 2 and len({r["id"] for r in again["references"]}) == 2


async def test_legacy_endpoint_keeps_the_seed_shapes(live: Api) -> None:
    typed = await live.client.post("/api/RegisterResult", json=legacy_body(london("020_03")))
    assert typed.status_code == 200, typed.text
    answer = typed.json()
    assert set(answer) == {"human", "male_type", "dsc", "img1", "img2", "img3", "img4"}
    async with live.context.sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT a.birth_month, a.mbti, a.outcome, t.slug, t.name, t.description "
                    "FROM analyses a JOIN face_types t ON t.id = a.type_id"
                )
            )
        ).one()
    assert (row.birth_month, row.mbti) == ("1990-03", "ESTJ")  # legacy_body's age and MBTI
    assert answer["human"] is True and row.slug == row.outcome in TYPES
    assert (answer["male_type"], answer["dsc"]) == (row.name, row.description)
    catalog = await live.client.get("/v1/admin/catalog", headers=ADMIN, params={"type": row.slug})
    own = {urlsplit(image["url"]).path for image in catalog.json()}
    images = [answer[f"img{i}"] for i in range(1, 5)]
    assert all(images) and len({urlsplit(url).path for url in images}) == 4
    assert {urlsplit(url).path for url in images} <= own  # the stored type's references
    async with httpx.AsyncClient(timeout=30) as web:  # presigned links of the S3 API
        for url in images:
            fetched = await web.get(url)
            assert fetched.status_code == 200 and Image.open(io.BytesIO(fetched.content)).size
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (90, 160, 90)).save(buffer, "JPEG")
    none = await live.client.post("/api/RegisterResult", json=legacy_body(buffer.getvalue()))
    assert none.json() == {"human": False} | dict.fromkeys(LEGACY_NULLS)
    async with live.context.sessions() as session:
        clients = (await session.execute(text("SELECT client FROM analyses"))).scalars().all()
    assert clients == ["legacy"]


async def test_ready_and_admin_models(live: Api) -> None:
    ready = await live.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    models = (await live.client.get("/v1/admin/models", headers=ADMIN)).json()
    assert {m["name"] for m in models} == {"face_check", "face_regions", "face_type"}
    assert all(w["status"] == "READY" for m in models for v in m["versions"] for w in v["workers"])
    assert all(m["default"] in {v["modelVersion"] for v in m["versions"]} for m in models)


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
    live: Api, model_v2: Callable[..., str], tmp_path: Path
) -> None:
    """Register face_type 2.0 (the face alone decides) through the admin API, make it default,
    see analyses follow, then undo."""
    config = yaml.safe_load((CONFIG_DIR / "face_type.yaml").read_text())
    config["handler"]["combination"] = "face"
    face_only = tmp_path / "face_type.yaml"
    face_only.write_text(yaml.safe_dump(config))
    await serve_version_2(live, model_v2("face_type", TYPE_MODEL, face_only), "face_type")
    admin = live.client
    result = (await live.client.post("/v1/analyses", **form(london()))).json()
    assert result["model"] == {"name": "face_type", "version": "2.0"}
    assert result["verdict"]["combination"] == "face"
    assert result["type"]["slug"] == result["regions"]["face"]["type"]
    scaled = await admin.put(
        "/v1/admin/models/face_type/workers",
        headers=ADMIN,
        json={"min_workers": 1, "max_workers": 1, "version": "2.0"},
    )
    assert scaled.status_code == 200, scaled.text

    await admin.put("/v1/admin/models/face_type/default", headers=ADMIN, json={"version": "1.0"})
    removed = await admin.delete("/v1/admin/models/face_type/versions/2.0", headers=ADMIN)
    assert removed.status_code == 200, removed.text
    versions = (await admin.get("/v1/admin/models/face_type", headers=ADMIN)).json()
    assert [v["modelVersion"] for v in versions] == ["1.0"]
    missing = await admin.delete("/v1/admin/models/face_type/versions/2.0", headers=ADMIN)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


async def test_share_opt_in_is_stored_and_off_by_default(live: Api) -> None:
    """``share_opt_in=true`` (form or JSON) is kept on the row; a request without it is not
    opted in: only then may the card and story draw the photo."""
    photo = london()
    image = base64.b64encode(photo).decode()
    json_body = {
        "image_base64": image,
        "mbti": "INTJ",
        "birth_date": "1995-04-17",
        "consent": CONSENT,
    }
    answers = {
        "form, absent": await live.client.post("/v1/analyses", **form(photo)),
        "form, true": await live.client.post("/v1/analyses", **form(photo, share_opt_in="true")),
        "form, false": await live.client.post("/v1/analyses", **form(photo, share_opt_in="false")),
        "json, absent": await live.client.post("/v1/analyses", json=json_body),
        "json, true": await live.client.post(
            "/v1/analyses", json=json_body | {"share_opt_in": True}
        ),
    }
    expected = {case: case.endswith("true") for case in answers}
    for case, response in answers.items():
        assert response.status_code == 201, (case, response.text)
    assert {case: r.json()["share_opt_in"] for case, r in answers.items()} == expected
    async with live.context.sessions() as session:
        rows = dict((await session.execute(text("SELECT id, share_opt_in FROM analyses"))).all())
    assert {case: rows[r.json()["id"]] for case, r in answers.items()} == expected
    for case, response in answers.items():
        owner = {"X-Delete-Token": response.json()["delete_token"]}
        read = await live.client.get(f"/v1/analyses/{response.json()['id']}", headers=owner)
        assert read.json()["share_opt_in"] is expected[case], case


async def test_a_deleted_result_is_no_longer_shared(live: Api) -> None:
    """Once deleted, the share page, its card and its story are 404 (as is the result the
    permalink /r/{id} loads), even for a result that was opted in."""
    created = await live.client.post("/v1/analyses", **form(london(), share_opt_in="true"))
    assert created.status_code == 201, created.text
    result = created.json()
    pages = [f"/share/{result['id']}", *(f"/share/{result['id']}/{n}" for n in IMAGES)]
    for path in pages:  # shared while it exists
        assert (await live.client.get(path)).status_code == 200, path
    deleted = await live.client.delete(
        f"/v1/analyses/{result['id']}", headers={"X-Delete-Token": result["delete_token"]}
    )
    assert deleted.status_code == 204 and await live.nothing_stored()

    page = await live.client.get(pages[0])
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Result not found" in page.text
    for path in pages[1:]:
        for method in ("GET", "HEAD"):
            image = await live.client.request(method, path)
            assert image.status_code == 404, (method, path)
            assert image.headers["content-type"].startswith("application/problem+json")
        assert (await live.client.get(path)).json()["code"] == "not_found"
    read = await live.client.get(f"/v1/analyses/{result['id']}")
    assert read.status_code == 404 and read.json()["code"] == "not_found"


# --- several selfies of one person, and how sure the answer is (issue 27) --------------------
def mirrored(photo: bytes) -> bytes:
    image = Image.open(io.BytesIO(photo)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def selfies(*images: bytes, **fields: str) -> dict:
    data = {"mbti": "INTJ", "birth_date": "1995-04-17", "consent": CONSENT} | fields
    files = [("image", (f"selfie-{i}.jpg", image, "image/jpeg")) for i, image in enumerate(images)]
    return {"data": data, "files": files}


async def test_three_selfies_of_one_person_are_one_steadier_answer(live: Api) -> None:
    """London's neutral and smiling photo of one person and a mirror image of the first."""
    neutral, smiling = london("030_03"), london("030_08")
    response = await live.client.post(
        "/v1/analyses", **selfies(neutral, smiling, mirrored(neutral))
    )
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["photos"] == 3 and result["margin"] >= 0
    assert result["near"] is None or result["near"] != result["type"]["slug"]
    assert len(await live.object_keys()) == 3 and await live.count_rows() == 1
    deleted = await live.client.delete(
        f"/v1/analyses/{result['id']}", headers={"X-Delete-Token": result["delete_token"]}
    )
    assert deleted.status_code == 204 and await live.nothing_stored()


async def test_another_persons_selfie_is_named_and_nothing_is_stored(live: Api) -> None:
    response = await live.client.post(
        "/v1/analyses", **selfies(london("030_03"), london("030_08"), london("010_03"))
    )
    problem = response.json()
    assert response.status_code == 422 and problem["code"] == "different_people", problem
    assert problem["photo"] == 2 and problem["detail"].startswith("Photo 3 of 3:")
    assert await live.nothing_stored()


async def test_the_same_bytes_get_the_same_answer(live: Api) -> None:
    """Identical photos, sent twice (no Idempotency-Key): the same type, score, regions and
    margin; only the references are drawn anew."""
    answers = []
    for _ in range(2):
        response = await live.client.post("/v1/analyses", **form(london("004_03")))
        assert response.status_code == 201, response.text
        answers.append(response.json())
    same = ("type", "score", "regions", "verdict", "margin", "near", "photos")
    first, second = ({k: a[k] for k in same} for a in answers)
    assert first == second
    assert answers[0]["id"] != answers[1]["id"]


# --- look-alike references (issue 29) --------------------------------------------------------
LOOK_ALIKES = ("004_03", "030_03", "010_03", "090_03")  # four London faces, under every type


async def test_references_are_the_catalog_faces_nearest_the_persons(
    tmp_path: Path, pg_database: str, s3_endpoint: S3Endpoint, torchserve: TorchServeInstance
) -> None:
    """The same four London faces under every type: whatever type the first gets, its own
    catalog image comes first (similarity >= 0.99), the others after in falling similarity."""
    settings = settings_for(tmp_path, pg_database, s3_endpoint, **model_urls(torchserve))
    async with running(settings) as api:
        for slug in TYPES:
            for stem in LOOK_ALIKES:
                added = await api.client.post(
                    "/v1/admin/catalog",
                    headers=ADMIN,
                    data={"type": slug, "caption": stem},
                    files={"image": (f"{stem}.jpg", london(stem), "image/jpeg")},
                )
                assert added.status_code == 201 and added.json()["has_face"], added.text
        result = (await api.client.post("/v1/analyses", **form(london(LOOK_ALIKES[0])))).json()
        refs = result["references"]
        assert result["references_by"] == "look-alike" and len(refs) == 4
        assert refs[0]["caption"] == LOOK_ALIKES[0] and refs[0]["similarity"] >= 0.99
        similarities = [ref["similarity"] for ref in refs]
        assert similarities == sorted(similarities, reverse=True) and similarities[1] < 0.99
        owner = {"X-Delete-Token": result["delete_token"]}
        again = (await api.client.get(f"/v1/analyses/{result['id']}", headers=owner)).json()
        assert [r["id"] for r in again["references"]] == [r["id"] for r in refs]  # as chosen
        async with api.context.sessions() as session:
            row = (await session.execute(text("SELECT * FROM analyses"))).mappings().one()
        assert "descriptor" not in str(dict(row))  # the person's descriptor is not kept


async def test_a_catalog_without_faces_gives_random_references(live: Api) -> None:
    """The live catalog is flat generated images: no face, so the references are drawn."""
    listed = (await live.client.get("/v1/admin/catalog", headers=ADMIN)).json()
    assert listed and not any(image["has_face"] for image in listed)
    result = (await live.client.post("/v1/analyses", **form(london()))).json()
    assert result["references_by"] == "random" and len(result["references"]) == 4
    assert all(ref["similarity"] is None for ref in result["references"])
