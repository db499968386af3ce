"""The ``face_type`` handler with the real face network (the converted dlib weights) and the
committed type model on a London crop; the type model's rules alone:
tests/unit/model_server/test_face_type.py."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from core.crop import upright_crop
from core.dataset import default_dataset_dir
from core.parameters import CROP
from core.schemas import TypeAnswer
from core.taxonomy import PARTS, TYPES
from model_server.paths import WEIGHTS_DIR
from model_server.runtime.embedding import CropEmbedding
from model_server.runtime.handlers.face_type import FaceTypeHandler
from model_server.runtime.type_model import strength
from model_server.tools.dlib_weights import converted
from model_server.tools.worker_context import local_context, model_config
from tests.unit.model_server.test_face_type import artefact, embeddings

WEIGHTS = WEIGHTS_DIR
LONDON = default_dataset_dir() / "images"


def descriptor(width: int) -> np.ndarray:
    """A raw descriptor per image width: width 320's is the origin, others 0.01 a pixel off."""
    vector = np.zeros(128)
    vector[0], vector[1] = 1.0, (width - 320) / 100
    return vector


def encode(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture(scope="module", autouse=True)
def restore_torch_threads() -> Iterator[None]:
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def handler(tmp_path: Path, served: str = "seed_vote", **settings: Any) -> FaceTypeHandler:
    (tmp_path / "type_model.json").write_text(json.dumps(artefact(served)))
    settings = {"face_net": str(converted())} | settings
    context = local_context(
        "face_type", tmp_path, model_config("face_type", **settings), "type_model.json"
    )
    instance = FaceTypeHandler()
    instance.initialize(context)
    return instance


def by_width(values: dict[int, tuple[float, float, float]]) -> Any:
    """Stands in for dlib: the embeddings of an image are chosen by its width."""
    return lambda images, margin: [
        CropEmbedding(embeddings(*values[image.width]), descriptor(image.width)) for image in images
    ]


def test_handler_answers_the_contract_with_its_arithmetic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = handler(tmp_path)
    monkeypatch.setattr(
        instance.embedder, "embed_crops", by_width({320: (1.0, 2.0, 0.0), 300: (-2, -1, -1)})
    )
    answers = instance.handle(
        [
            {"data": encode(Image.new("RGB", (320, 320)))},
            {"data": b"not an image"},
            {"body": encode(Image.new("RGB", (300, 300)))},
        ],
        instance.context,
    )
    assert answers[1] == {"error": "image_corrupt"}
    first, last = TypeAnswer.model_validate(answers[0]), TypeAnswer.model_validate(answers[2])
    assert (first.type, first.score, first.combination) == ("alpha", 86, "seed_vote")
    assert {p: r.type for p, r in first.regions.items()} == {
        "face": "beta", "t_zone": "alpha", "jaw": "gamma"
    }  # fmt: skip
    assert {p: r.points for p, r in first.regions.items()} == {"face": 40, "t_zone": 40, "jaw": 6}
    assert first.points["face"] == [50, 40, 30, 20, 10] and first.bounds[0] == (85, "alpha")
    for region in first.regions.values():
        assert sum(region.probabilities.values()) == pytest.approx(1, abs=1e-3)
        assert region.probability == region.probabilities[region.type]
        assert region.strength == strength(region.probability)
    # face omega 10 + T-zone delta 16 + jaw delta 4 = 30 > 20: delta
    assert (last.type, last.score) == ("delta", 30)
    assert first.model.name == "face_type" and (first.width, first.height) == (320, 320)


def test_the_combination_is_a_setting_and_the_answer_states_points_and_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = handler(tmp_path)
    instance.model.points = {part: (1, 1, 1, 1, 1) for part in PARTS}
    instance.model.bounds = ((2, "gamma"), (0, "omega"))
    monkeypatch.setattr(instance.embedder, "embed_crops", by_width({320: (1.0, 2.0, 0.0)}))
    [answer] = instance.handle([{"data": encode(Image.new("RGB", (320, 320)))}], instance.context)
    assert (answer["type"], answer["score"]) == ("gamma", 3)
    assert answer["points"]["jaw"] == [1] * 5 and answer["bounds"] == [[2, "gamma"], [0, "omega"]]
    assert answer["crop"] == CROP.as_dict()
    face = handler(tmp_path, combination="face")
    monkeypatch.setattr(face.embedder, "embed_crops", by_width({320: (1.0, 2.0, 0.0)}))
    [answer] = face.handle([{"data": encode(Image.new("RGB", (320, 320)))}], face.context)
    assert (answer["type"], answer["combination"]) == ("beta", "face")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"combination": "majority"}, "combination"),
        ({"points": {"face": [1, 2]}}, "points"),
        ({"crop_margin": 0.3}, "crop_margin"),
    ],
)
def test_handler_refuses_bad_settings(
    tmp_path: Path, setting: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        handler(tmp_path, **setting)


def test_a_failing_embedding_fails_its_image_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = handler(tmp_path)
    values = by_width({320: (0.0, 0.0, 0.0)})

    def fails_on_odd_widths(images: list[Image.Image], margin: float) -> list[CropEmbedding]:
        if any(image.width % 2 for image in images):
            raise RuntimeError("injected failure")
        return values(images, margin)

    monkeypatch.setattr(instance.embedder, "embed_crops", fails_on_odd_widths)
    answers = instance.handle(
        [
            {"data": encode(Image.new("RGB", (321, 320)))},
            {"data": encode(Image.new("RGB", (320, 320)))},
        ],
        instance.context,
    )
    assert answers[0] == {"error": "image_unprocessable"} and answers[1]["type"] == "gamma"


@pytest.mark.dataset
def test_the_served_model_types_a_real_face_crop_and_its_mirror_alike() -> None:
    """The committed artefact and real dlib, on a London crop (the gateway's crop)."""
    photo = LONDON / "004_03.jpg"
    if not photo.is_file():
        pytest.skip(f"London faces not found under {LONDON} (set ALPHAMALE_DATASET_DIR)")
    from model_server.runtime.face_detector import FaceDetector

    image = Image.open(photo).convert("RGB")
    face = FaceDetector().detect([image])[0][0]
    crop = upright_crop(image, face.box, face.landmarks[0], face.landmarks[1]).image
    config = model_config("face_type", face_net=str(converted()))
    context = local_context("face_type", WEIGHTS, config, "type_model.json")
    instance = FaceTypeHandler()
    instance.initialize(context)
    answers = instance.handle(
        [{"data": encode(crop)}, {"data": encode(crop.transpose(Image.FLIP_LEFT_RIGHT))}],
        instance.context,
    )
    typed = [TypeAnswer.model_validate(a) for a in answers]
    assert typed[0].type in TYPES and typed[0].score == sum(
        r.points for r in typed[0].regions.values()
    )
    values = [[r.value for r in t.regions.values()] for t in typed]
    assert np.allclose(values[0], values[1], atol=0.5)  # a mirror changes the values little


def b64(image: Image.Image) -> str:
    return base64.b64encode(encode(image)).decode()


def test_one_request_types_up_to_three_crops_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = handler(tmp_path)
    values = {320: (1.0, 2.0, 0.0), 300: (0.0, 1.0, -1.0), 310: (0.5, 0.5, 0.5)}
    monkeypatch.setattr(instance.embedder, "embed_crops", by_width(values))
    crops = [b64(Image.new("RGB", (w, w))) for w in (320, 300, 310)]
    answers = instance.handle(
        [
            {"body": {"crops": crops[:2]}},
            {"body": {"crops": crops}},
            {"body": encode(Image.new("RGB", (320, 320)))},
            {"body": {"crops": []}},
            {"body": {"crops": crops + crops[:1]}},
            {"body": {"crops": [crops[0], "not base64!"]}},
            {"body": {"crops": [crops[0], base64.b64encode(b"not an image").decode()]}},
            {"body": {"images": crops}},
        ],
        instance.context,
    )
    two, three, raw = (TypeAnswer.model_validate(a) for a in answers[:3])
    assert (two.photos, three.photos, raw.photos) == (2, 3, 1)
    assert [r.value for r in two.regions.values()] == [0.5, 1.5, -0.5]
    assert two.identity.distances == [0.0, 0.2] and two.identity.threshold == 0.6
    assert three.identity.distances == [0.0, 0.2, 0.1]
    assert np.linalg.norm(two.descriptor) == pytest.approx(1.0, abs=1e-5)
    assert (raw.type, raw.score, raw.width) == ("alpha", 86, 320)
    assert raw.identity.distances == [0.0] and raw.near_threshold == 1.0
    assert answers[3:] == [
        {"error": "image_unprocessable"},
        {"error": "image_unprocessable"},
        {"error": "image_corrupt"},
        {"error": "image_corrupt"},
        {"error": "image_unprocessable"},
    ]


def test_an_artefact_without_what_serving_needs_is_refused(tmp_path: Path) -> None:
    body = artefact()
    del body["noise"]
    (tmp_path / "type_model.json").write_text(json.dumps(body))
    context = local_context(
        "face_type", tmp_path, model_config("face_type", face_net=str(converted())),
        "type_model.json",
    )  # fmt: skip
    with pytest.raises(ValueError, match="noise"):
        FaceTypeHandler().initialize(context)


def test_the_same_crop_gets_the_same_answer_alone_in_a_batch_or_among_photos(
    tmp_path: Path,
) -> None:
    """The real network and dlib on a made-up image: a crop's values, type and descriptor are
    bit-identical whatever shares its TorchServe batch or its request (each crop's chips go
    through the network in a pass of their own)."""
    rng = np.random.default_rng(0)
    images = [
        Image.fromarray(rng.integers(0, 255, (320, 320, 3), dtype=np.uint8)) for _ in range(3)
    ]
    instance = handler(tmp_path)
    alone = instance.handle([{"body": encode(images[0])}], instance.context)[0]
    batch = instance.handle(
        [{"body": encode(images[1])}, {"body": encode(images[0])}, {"body": encode(images[2])}],
        instance.context,
    )[1]
    twice = instance.handle(
        [{"body": {"crops": [b64(images[0]), b64(images[0])]}}], instance.context
    )[0]
    assert alone == batch
    assert twice["regions"] == alone["regions"] and twice["type"] == alone["type"]
    assert twice["identity"]["distances"] == [0.0, 0.0]
    assert twice["descriptor"] == alone["descriptor"]
