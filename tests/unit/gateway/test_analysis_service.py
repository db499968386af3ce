"""The analysis use case, every branch, in seconds: SQLite, local files, a stand-in model server.

The stand-in answers in the typed contract (``core.schemas``), as TorchServe's handlers do;
everything else (validation, crop, scoring input, storage, rows, compensation) is the real code.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import text

from core.parameters import CROP, SCORE_BOUNDS, SCORE_POINTS
from core.schemas import FaceCheckAnswer, RegionsAnswer, TypeAnswer
from core.taxonomy import PART_COLOURS, PARTS, TYPES
from db import migrate, queries
from db.models import CatalogImage
from db.seed import seed_types
from db.session import sqlite_url
from gateway.analyses.deps import analysis_service
from gateway.analyses.service import AnalysisRequest, AnalysisService
from gateway.catalog.deps import catalog_service
from gateway.clients.storage import LocalStorage, new_key
from gateway.config import Settings
from gateway.context import AppContext, app_context
from gateway.errors import (
    DatabaseUnavailable,
    DifferentPeople,
    FaceTooSmall,
    IdempotencyConflict,
    ModelUnavailable,
    NoFace,
    NotFound,
    RegionsIncomplete,
    StorageUnavailable,
)
from gateway.face_index import DESCRIPTOR_SIZE, FaceIndex, TypeFaces
from tests.fixtures.app import CONSENT
from tests.unit.gateway.test_imaging import iphone_heic


def face(x: float, y: float, eye_to_chin: float) -> dict:
    """A face whose eyes sit at (x +- 20, y) and whose box ends eye_to_chin below them."""
    marks = {"left_eye": [x - 20, y], "right_eye": [x + 20, y], "nose": [x, y + 20]}
    marks |= {"mouth_left": [x - 15, y + 40], "mouth_right": [x + 15, y + 40]}
    box = [x - eye_to_chin * 0.8, y - eye_to_chin * 0.6, x + eye_to_chin * 0.8, y + eye_to_chin]
    return {"box": box, "landmarks": marks, "confidence": 0.999}


def regions(*found: bool) -> dict:
    """A face_regions answer: which parts were found."""
    parts = {
        part: {
            "found": hit,
            "box": [40.0, 40.0, 280.0, 300.0] if hit else None,
            "presence": 0.95 if hit else 0.2,
        }
        for part, hit in zip(PARTS, found, strict=True)
    }
    return {
        "complete": all(found),
        "regions": parts,
        "threshold": 0.75,
        "width": 320,
        "height": 320,
        "crop": CROP.as_dict(),
        "model": {"name": "face_regions", "version": "1.0"},
    }


POINTS = {part: list(points) for part, points in SCORE_POINTS.items()}
BOUNDS = list(SCORE_BOUNDS)


def typed(*types: str) -> dict:
    """A face_type answer under the seed's vote with these region types."""
    points = {part: POINTS[part][TYPES.index(t)] for part, t in zip(PARTS, types, strict=True)}
    score = sum(points.values())
    probabilities = dict.fromkeys(TYPES, 0.2)
    return {
        "type": next(name for bound, name in BOUNDS if score > bound),
        "combination": "seed_vote",
        "score": score,
        "regions": {
            part: {
                "type": t,
                "value": 0.1,
                "probability": 0.2,
                "probabilities": probabilities,
                "strength": "borderline",
                "points": points[part],
            }
            for part, t in zip(PARTS, types, strict=True)
        },
        "photos": 1,
        "margin": 2.5,
        "near": None,
        "near_threshold": 1.85,
        "identity": {"threshold": 0.6, "distances": [0.0]},
        "descriptor": [0.0] * 127 + [1.0],
        "points": POINTS,
        "bounds": BOUNDS,
        "width": 320,
        "height": 320,
        "crop": CROP.as_dict(),
        "model": {"name": "face_type", "version": "1.0"},
    }


class StandInModelServer:
    """Answers like the handlers, from what the test sets; counts the calls."""

    def __init__(self) -> None:
        self.faces: list[dict] = [face(200, 180, 120)]
        self.faceless_widths: set[int] = set()  # photos of these widths show no face
        self.distances: list[float] | None = None  # identity distances (default: one person)
        self.crops: list[int] = []  # how many crops each face_type call typed
        self.regions = regions(True, True, True)
        self.types = typed("beta", "beta", "gamma")  # 40 + 32 + 6 = 78 > 68: beta
        self.calls: list[str] = []
        self.down: set[str] = set()
        self.gate: asyncio.Event | None = None  # set: face_regions waits for face_type's call

    async def face_check(self, image: bytes) -> FaceCheckAnswer:
        self.calls.append("face_check")
        if "face_check" in self.down:
            raise ModelUnavailable("stand-in down")
        size = Image.open(io.BytesIO(image)).size
        faces = [] if size[0] in self.faceless_widths else self.faces
        body = {"faces": faces, "count": len(faces), "width": size[0]}
        return FaceCheckAnswer.model_validate(body | {"height": size[1]})

    async def face_regions(self, image: bytes) -> RegionsAnswer:
        self.calls.append("face_regions")
        if self.gate is not None:
            await asyncio.wait_for(self.gate.wait(), timeout=60)
        return RegionsAnswer.model_validate(self.regions)

    async def face_type(self, crops: Sequence[bytes]) -> TypeAnswer:
        self.calls.append("face_type")
        self.crops.append(len(crops))
        if self.gate is not None:
            self.gate.set()
        if "face_type" in self.down:
            raise ModelUnavailable("stand-in down")
        distances = self.distances or [0.0] * len(crops)
        identity = {"threshold": 0.6, "distances": distances}
        return TypeAnswer.model_validate(self.types | {"photos": len(crops), "identity": identity})


def photo(size: tuple[int, int] = (400, 400)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (180, 150, 120)).save(buffer, "JPEG")
    return buffer.getvalue()


def request(**changes: object) -> AnalysisRequest:
    return dataclasses.replace(
        AnalysisRequest(images=(photo(),), mbti="intj", birth_date="1995-04-17", consent=CONSENT),
        **changes,
    )


@pytest.fixture
async def models() -> StandInModelServer:
    return StandInModelServer()


@pytest.fixture
async def context(tmp_path: Path, models: StandInModelServer) -> AsyncIterator[AppContext]:
    # its own database, named: a test below drops a table of it
    settings = Settings(
        var_dir=tmp_path, database_url=sqlite_url(tmp_path), public_base_url="http://testserver"
    )
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    async with app_context(settings) as real:
        async with real.sessions() as session:
            await seed_types(session)
        yield dataclasses.replace(real, models=models)  # type: ignore[arg-type]


@pytest.fixture
def service(context: AppContext) -> AnalysisService:
    return analysis_service(context)


async def stored(context: AppContext | AnalysisService) -> tuple[int, list[Path]]:
    """(analysis rows, upload files) of the app's or the service's sessions and storage dir."""
    async with context.sessions() as session:
        rows = int(await session.scalar(text("SELECT count(*) FROM analyses")) or 0)
    root = context.settings.storage_dir
    assert root is not None
    return rows, sorted(p for p in (root / "uploads").rglob("*") if p.is_file())


async def test_a_face_is_analysed_stored_answered_and_deleted(
    service: AnalysisService, context: AppContext
) -> None:
    for index in range(5):
        await catalog_service(context).add("beta", photo((64, 64)), f"beta {index}")
    created = await service.analyse(request())
    analysis = created.analysis
    assert (analysis.outcome, analysis.score, analysis.mbti) == ("beta", 78, "INTJ")
    assert analysis.face_count == 1 and created.answer.delete_token and not created.replayed
    assert all(len(r["polygon"]) == 4 for r in analysis.regions.values())
    assert {p: (r["type"], r["points"]) for p, r in analysis.regions.items()} == {
        "face": ("beta", 40), "t_zone": ("beta", 32), "jaw": ("gamma", 6)
    }  # fmt: skip
    answer = created.answer
    assert answer.verdict is not None and answer.verdict.score == answer.score == 78
    assert (
        answer.verdict.explanation == "face Beta 40 + T-zone Beta 32 + jaw Gamma 6 = 78 > 68: Beta"
    )
    assert (
        answer.verdict.explanation_ko
        == "얼굴 베타 40 + T존 베타 32 + 턱 감마 6 = 78점 > 68점: 베타"
    )
    assert answer.type.name_ko == "베타" and answer.model.name == "face_type"
    # each part's colour served beside the type's, so the client draws none of its own
    assert {p: r.colour for p, r in answer.regions.items()} == PART_COLOURS
    assert answer.type.slug == "beta" and len(answer.references) == 4
    assert answer.links.share == f"http://testserver/share/{analysis.id}"
    assert (await stored(context))[0] == 1 and len((await stored(context))[1]) == 1
    assert (await service.get(analysis.id)).regions == answer.regions

    with pytest.raises(NotFound):
        await service.delete(analysis.id, "not the token")
    await service.delete(analysis.id, created.answer.delete_token)
    assert await stored(context) == (0, [])
    with pytest.raises(NotFound):
        await service.get(analysis.id)


async def test_no_face(service: AnalysisService, models: StandInModelServer) -> None:
    models.faces = []
    with pytest.raises(NoFace):
        await service.analyse(request())
    assert models.calls == ["face_check"]
    assert await stored(service) == (0, [])


async def test_a_small_face_says_how_small(
    service: AnalysisService, models: StandInModelServer
) -> None:
    models.faces = [face(200, 180, 20)]
    with pytest.raises(FaceTooSmall) as raised:
        await service.analyse(request())
    assert raised.value.extra["face_count"] == 1 and "20 px" in raised.value.detail
    assert "closer" in raised.value.hint


async def test_several_small_faces_are_counted_and_the_largest_named(
    service: AnalysisService, models: StandInModelServer
) -> None:
    models.faces = [face(100, 100, 24), face(300, 100, 20), face(200, 300, 18)]
    with pytest.raises(FaceTooSmall) as raised:
        await service.analyse(request())
    assert raised.value.detail.startswith("3 faces were found; the largest, at x 81-119")
    assert raised.value.extra["face_count"] == 3 and "Crop" in raised.value.hint
    assert await stored(service) == (0, [])


async def test_several_faces_analyse_the_largest(
    service: AnalysisService, models: StandInModelServer
) -> None:
    models.faces = [face(120, 150, 100), face(300, 150, 60)]
    created = await service.analyse(request())
    assert created.analysis.face_count == 2
    xs = [x for r in created.analysis.regions.values() for x, _ in r["polygon"]]
    assert min(xs) < 120 < max(xs) < 300 - 40  # drawn on the first (largest) face


async def test_regions_incomplete_keeps_the_regions_and_stores_nothing(
    service: AnalysisService, models: StandInModelServer
) -> None:
    models.regions = regions(True, False, True)
    with pytest.raises(RegionsIncomplete) as raised:
        await service.analyse(request())
    found = {part: r["found"] for part, r in raised.value.extra["regions"].items()}
    assert found == {"face": True, "t_zone": False, "jaw": True}
    assert raised.value.extra["regions"]["t_zone"]["polygon"] is None
    assert await stored(service) == (0, [])


async def test_an_idempotency_key_replays_and_refuses_other_requests(
    service: AnalysisService, models: StandInModelServer
) -> None:
    first = await service.analyse(request(idempotency_key="k1"))
    again = await service.analyse(request(idempotency_key="k1"))
    assert again.replayed and again.analysis.id == first.analysis.id
    assert again.answer.delete_token is None and models.calls.count("face_check") == 1
    with pytest.raises(IdempotencyConflict):
        await service.analyse(request(idempotency_key="k1", mbti="ENFP"))
    assert (await stored(service))[0] == 1


async def test_a_failing_row_takes_its_photo_with_it(
    service: AnalysisService, context: AppContext, tmp_path: Path
) -> None:
    assert context.engine.url.database == str((tmp_path / "alphamale.db").resolve())  # its own
    async with context.engine.begin() as connection:
        await connection.execute(text("DROP TABLE analyses"))
    with pytest.raises(DatabaseUnavailable):
        await service.analyse(request())
    root = context.settings.storage_dir
    assert root is not None and not [p for p in root.rglob("*") if p.is_file()]


async def test_an_iphone_heic_is_stored_upright_as_jpeg(
    service: AnalysisService, context: AppContext
) -> None:
    """EXIF orientation 6 (and the HEIF rotation): the kept photo is portrait, left on top."""
    created = await service.analyse(request(images=(iphone_heic((640, 480)),)))
    [key] = created.analysis.object_keys
    assert key.endswith(".jpg")
    kept = Image.open(io.BytesIO(await context.storage.get(key))).convert("RGB")
    assert kept.size == (480, 640)
    top, bottom = kept.getpixel((240, 40)), kept.getpixel((240, 600))
    assert top[0] > 180 > bottom[0] and bottom[2] > 180  # red (the left half) on top, blue below


async def test_storage_down_stores_no_row(tmp_path: Path, context: AppContext) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("storage cannot write below a file")
    storage = LocalStorage(blocker / "objects", "http://testserver", b"key")
    service = analysis_service(dataclasses.replace(context, storage=storage))
    with pytest.raises(StorageUnavailable):
        await service.analyse(request())
    assert (await stored(context))[0] == 0


async def test_a_model_server_that_is_down_stores_nothing(
    service: AnalysisService, models: StandInModelServer
) -> None:
    models.down = {"face_check"}
    with pytest.raises(ModelUnavailable):
        await service.analyse(request())
    assert await stored(service) == (0, [])


async def test_regions_and_type_are_asked_for_concurrently(
    service: AnalysisService, models: StandInModelServer
) -> None:
    """face_regions answers only once face_type has been called: sequential calls would hang."""
    models.gate = asyncio.Event()
    created = await service.analyse(request())
    assert created.analysis.outcome == "beta"
    assert models.calls == ["face_check", "face_regions", "face_type"]


async def test_a_type_model_that_is_down_stores_nothing(
    service: AnalysisService, models: StandInModelServer
) -> None:
    models.down = {"face_type"}
    with pytest.raises(ModelUnavailable):
        await service.analyse(request())
    assert await stored(service) == (0, [])


@pytest.mark.parametrize(
    ("types", "outcome", "score"),
    [
        (("alpha", "alpha", "omega"), "alpha", 92),
        (("alpha", "beta", "omega"), "beta", 84),
        (("omega", "omega", "alpha"), "delta", 28),
    ],
)
async def test_the_stored_type_is_the_type_models_answer(
    service: AnalysisService,
    models: StandInModelServer,
    types: tuple[str, str, str],
    outcome: str,
    score: int,
) -> None:
    models.types = typed(*types)
    analysis = (await service.analyse(request())).analysis
    assert (analysis.outcome, analysis.score) == (outcome, score)
    assert analysis.verdict is not None and analysis.verdict["score"] == score


# --- several selfies of one person -----------------------------------------------------------
def selfies(count: int) -> tuple[bytes, ...]:
    """Photos of different widths, so the stand-in can tell them apart."""
    return tuple(photo((400 + 20 * index, 400)) for index in range(count))


async def test_three_selfies_are_typed_together_stored_and_deleted_together(
    service: AnalysisService, models: StandInModelServer, context: AppContext
) -> None:
    created = await service.analyse(request(images=selfies(3)))
    analysis = created.analysis
    assert models.crops == [3] and models.calls.count("face_check") == 3
    assert models.calls.count("face_regions") == 3  # each photo's parts, one type for all
    assert analysis.photos == 3 and len(analysis.object_keys) == 3
    assert (analysis.margin, analysis.near) == (2.5, None)
    answer = created.answer
    assert (answer.photos, answer.margin, answer.near) == (3, 2.5, None)
    assert len((await stored(context))[1]) == 3
    await service.delete(analysis.id, created.answer.delete_token or "")
    assert await stored(context) == (0, [])


async def test_another_persons_photo_is_named_and_nothing_is_stored(
    service: AnalysisService, models: StandInModelServer, context: AppContext
) -> None:
    models.distances = [0.0, 0.41, 0.83]  # the third is someone else (one person up to 0.6)
    with pytest.raises(DifferentPeople) as refused:
        await service.analyse(request(images=selfies(3)))
    assert refused.value.extra["photo"] == 2 and refused.value.status == 422
    assert refused.value.detail.startswith("Photo 3 of 3:")
    assert await stored(context) == (0, [])


async def test_each_photo_passes_every_check_and_a_refusal_names_it(
    service: AnalysisService, models: StandInModelServer, context: AppContext
) -> None:
    models.faceless_widths = {420, 440}  # the second and third photos
    with pytest.raises(NoFace) as refused:
        await service.analyse(request(images=selfies(3)))
    assert refused.value.extra["photo"] == 1  # the lowest one
    assert refused.value.detail == "Photo 2 of 3: No human face was found in the photo."
    assert "face_type" not in models.calls and await stored(context) == (0, [])
    models.faceless_widths = set()
    models.regions = regions(True, False, True)
    with pytest.raises(RegionsIncomplete) as incomplete:
        await service.analyse(request(images=selfies(2)))
    assert incomplete.value.extra["photo"] == 0 and await stored(context) == (0, [])


async def test_an_idempotency_key_covers_the_whole_set(service: AnalysisService) -> None:
    first = await service.analyse(request(images=selfies(2), idempotency_key="set"))
    again = await service.analyse(request(images=selfies(2), idempotency_key="set"))
    assert again.replayed and again.analysis.id == first.analysis.id
    other = (selfies(2)[0], photo((460, 400)))  # the same first photo, another second
    with pytest.raises(IdempotencyConflict):
        await service.analyse(request(images=other, idempotency_key="set"))


# --- look-alike references: the catalog faces nearest the person's ----------------------------
def unit(similarity: float, axis: int) -> list[float]:
    """A descriptor of unit length whose similarity to PERSON is ``similarity`` (the rest of its
    length on ``axis``, each image its own)."""
    vector = np.zeros(DESCRIPTOR_SIZE)
    vector[0], vector[axis] = similarity, np.sqrt(1 - similarity**2)
    return vector.tolist()


PERSON = unit(1.0, 1)  # the descriptor face_type answers for the person


async def type_id_of(context: AppContext, slug: str) -> int:
    async with context.sessions() as session:
        face_type = await queries.get_type(session, slug)
        assert face_type is not None
        return face_type.id


async def add_faces(context: AppContext, slug: str, descriptors: list[list[float]]) -> list[str]:
    """Catalog images with a face, inserted as rows (as another gateway process leaves them)."""
    type_id = await type_id_of(context, slug)
    async with context.sessions() as session:
        rows = [
            CatalogImage(
                type_id=type_id,
                object_key=new_key("catalog", "png"),
                caption=f"{slug} {index}",
                content_type="image/png",
                has_face=True,
                face_descriptor=descriptor,
            )
            for index, descriptor in enumerate(descriptors)
        ]
        session.add_all(rows)
        await session.commit()
        return [row.id for row in rows]


async def test_references_are_the_types_catalog_faces_nearest_the_persons(
    context: AppContext, models: StandInModelServer
) -> None:
    """The bug this holds: references ignored the person's face (drawn at random although the
    type had enough described faces), came in another order, or lost their similarities; and
    ALPHAMALE_REFERENCES=random was not obeyed. The result's type (beta) has seven faces: the
    four nearest come nearest-first with their similarities, none of another type's (alpha's
    are the person's very face); with references "random" the same analysis draws them."""
    similarities = [0.6, 0.95, 0.0, 0.8, 0.3, 0.9, -0.4]
    beta = await add_faces(context, "beta", [unit(s, 2 + i) for i, s in enumerate(similarities)])
    await add_faces(context, "alpha", [PERSON] * 4)
    models.types["descriptor"] = PERSON

    created = await analysis_service(context).analyse(request())
    answer = created.answer
    assert answer.type.slug == "beta" and answer.references_by == "look-alike"
    nearest = [beta[similarities.index(s)] for s in (0.95, 0.9, 0.8, 0.6)]
    assert [ref.id for ref in answer.references] == nearest
    assert [ref.similarity for ref in answer.references] == pytest.approx([0.95, 0.9, 0.8, 0.6])
    kept = await analysis_service(context).get(created.analysis.id, answer.delete_token)
    assert kept.references_by == "look-alike"  # as chosen with the result
    assert [(r.id, r.similarity) for r in kept.references] == [
        (r.id, r.similarity) for r in answer.references
    ]

    settings = context.settings.model_copy(update={"references": "random"})
    drawn = (
        await analysis_service(dataclasses.replace(context, settings=settings)).analyse(request())
    ).answer
    assert drawn.type.slug == "beta" and drawn.references_by == "random"
    assert len(drawn.references) == 4 and {ref.id for ref in drawn.references} <= set(beta)
    assert all(ref.similarity is None for ref in drawn.references)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_the_face_index_sees_catalog_changes_made_elsewhere_after_its_ttl(
    context: AppContext,
) -> None:
    """The bug this holds: a gateway process kept its first read of a type's catalog faces for
    good, so an image another process added never became a look-alike (or it read them all on
    every analysis). A face inserted behind its back is seen once ``ttl_s`` has passed, not
    before (the cached matrix is used); ``forget`` (a change through this process) drops the
    type at once."""
    clock = Clock()
    index = FaceIndex(ttl_s=5.0, clock=clock)
    beta = await type_id_of(context, "beta")
    four = await add_faces(context, "beta", [unit(0.1 * i, 2 + i) for i in range(1, 5)])

    async def faces() -> TypeFaces:
        async with context.sessions() as session:
            return await index.faces(session, beta)

    async def nearest_one() -> str:
        async with context.sessions() as session:
            found = await index.look_alikes(session, beta, PERSON, 1)
        assert found is not None
        return found[0].image_id

    first = await faces()
    assert sorted(first.ids) == sorted(four) and first.matrix.shape == (4, DESCRIPTOR_SIZE)
    [elsewhere] = await add_faces(context, "beta", [unit(0.99, 10)])

    clock.now += 4.9
    assert await faces() is first and await nearest_one() == four[3]  # within ttl_s: cached
    clock.now += 0.1
    seen = await faces()
    assert sorted(seen.ids) == sorted([*four, elsewhere]) and seen.matrix.shape[0] == 5
    assert await nearest_one() == elsewhere

    [here] = await add_faces(context, "beta", [PERSON])
    assert await faces() is seen  # just read: cached again
    index.forget(beta)
    assert sorted((await faces()).ids) == sorted([*four, elsewhere, here])
    assert await nearest_one() == here
