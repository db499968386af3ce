"""The TorchServe handlers, driven through ``BaseHandler.handle`` with a mock context."""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image, ImageDraw
from ts.utils.util import list_classes_from_module

from core.dataset import default_dataset_dir
from core.parameters import CROP, MAX_PIXELS, PART_THRESHOLD, RETIRED_CONFIG_KEYS
from core.taxonomy import MODEL_NAMES, PARTS
from model_server.paths import REPO_ROOT
from model_server.runtime.checkpoint import (
    load_checkpoint,
    make_untrained_checkpoint,
    save_checkpoint,
)
from model_server.runtime.handlers.base import ImageHandler
from model_server.runtime.handlers.face_check import FaceCheckHandler
from model_server.runtime.handlers.face_regions import FaceRegionsHandler
from model_server.runtime.part_labels import encode_label
from model_server.tools import archive
from model_server.tools.worker_context import local_context, model_config

LONDON = default_dataset_dir()
NEUTRAL = sorted((LONDON / "images").glob("*_03.jpg"))


def encode(image: Image.Image, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def non_face_images() -> dict[str, Image.Image]:
    generator = torch.Generator().manual_seed(7)
    noise = torch.randint(0, 256, (480, 640, 3), generator=generator, dtype=torch.uint8)
    ramp = torch.linspace(0, 255, 640).to(torch.uint8)
    horizontal = ramp.expand(480, 640)
    gradient = torch.stack([horizontal, horizontal.flip(1), ramp[:480, None].expand(480, 640)], -1)
    shapes = Image.new("RGB", (640, 480), "white")
    draw = ImageDraw.Draw(shapes)
    draw.ellipse((200, 100, 440, 400), outline="black", width=6)
    draw.rectangle((40, 40, 160, 200), fill="navy")
    draw.polygon([(500, 400), (600, 250), (620, 450)], fill="orange")
    draw.line((0, 470, 640, 300), fill="green", width=10)
    return {
        "noise": Image.fromarray(noise.numpy()),
        "flat": Image.new("RGB", (512, 512), (200, 160, 130)),  # skin-like colour
        "gradient": Image.fromarray(gradient.contiguous().numpy()),
        "grey_ramp": Image.fromarray(horizontal.contiguous().numpy()).convert("RGB"),
        "shapes": shapes,
    }


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_each_handler_module_is_one_torchserve_entry_point(name: str) -> None:
    """Loaded as TorchServe loads an archive's ``--handler`` file (a top-level module of that
    name), the module defines exactly one class, an :class:`ImageHandler` with every hook."""
    spec = importlib.util.spec_from_file_location(name, archive.default_spec(name).handler)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    [handler] = list_classes_from_module(module)
    assert issubclass(handler, ImageHandler)
    assert not handler.__abstractmethods__


def test_a_handler_without_its_hooks_cannot_be_made() -> None:
    class Partial(ImageHandler):
        def load(self, context: Any) -> None:
            pass

    assert ImageHandler.__abstractmethods__ == {"load", "predict", "answer"}
    with pytest.raises(TypeError, match="predict"):
        Partial()


@pytest.fixture(scope="module", autouse=True)
def restore_torch_threads() -> Iterator[None]:
    """Handlers pin torch's threads for the process (as in a worker); give them back after."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def face_check() -> FaceCheckHandler:
    handler = FaceCheckHandler()
    handler.initialize(local_context("face_check", REPO_ROOT, model_config("face_check")))
    return handler


@pytest.fixture(scope="module")
def untrained_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_untrained_checkpoint(tmp_path_factory.mktemp("ckpt") / "face_regions.pt")


def regions_handler(checkpoint: Path, **handler: Any) -> FaceRegionsHandler:
    context = local_context(
        "face_regions", checkpoint.parent, model_config("face_regions", **handler), checkpoint.name
    )
    instance = FaceRegionsHandler()
    instance.initialize(context)
    return instance


def test_handlers_pin_torch_threads(face_check: FaceCheckHandler) -> None:
    assert torch.get_num_threads() == face_check.config["num_threads"] == 1


@pytest.mark.dataset
@pytest.mark.slow
def test_face_check_finds_exactly_one_face_in_every_neutral_london_image(
    face_check: FaceCheckHandler,
) -> None:
    if not NEUTRAL:
        pytest.skip(f"London faces not found under {LONDON} (set ALPHAMALE_DATASET_DIR)")
    assert len(NEUTRAL) == 102
    answers = []
    for pair in range(0, len(NEUTRAL), 2):  # batches of two, as TorchServe would hand them
        batch = [{"data": path.read_bytes()} for path in NEUTRAL[pair : pair + 2]]
        answers += face_check.handle(batch, face_check.context)
    counts = {path.name: answer["count"] for path, answer in zip(NEUTRAL, answers, strict=True)}
    assert {name: n for name, n in counts.items() if n != 1} == {}
    for answer in answers:
        face = answer["faces"][0]
        x1, y1, x2, y2 = face["box"]
        assert 0 <= x1 < x2 <= answer["width"] + 1 and 0 <= y1 < y2 <= answer["height"] + 1
        assert face["confidence"] >= 0.9
        eyes = face["landmarks"]["left_eye"], face["landmarks"]["right_eye"]
        assert eyes[0][0] < eyes[1][0] and all(x1 <= x <= x2 and y1 <= y <= y2 for x, y in eyes)


@pytest.mark.parametrize("name", list(non_face_images()))
def test_face_check_finds_no_face_in_generated_images(
    face_check: FaceCheckHandler, name: str
) -> None:
    image = non_face_images()[name]
    [answer] = face_check.handle([{"body": encode(image, "PNG")}], face_check.context)
    assert answer == {"faces": [], "count": 0, "width": image.width, "height": image.height}


def test_face_check_answers_a_bad_image_without_failing_the_batch(
    face_check: FaceCheckHandler,
) -> None:
    flat = encode(non_face_images()["flat"])
    batch = [
        {"data": b"not an image"},
        {"body": bytearray(flat)},
        {"data": flat[: len(flat) // 3]},  # truncated JPEG
        {"data": b""},
    ]
    answers = face_check.handle(batch, face_check.context)
    assert answers[0] == answers[2] == answers[3] == {"error": "image_corrupt"}
    assert answers[1]["count"] == 0 and answers[1]["width"] == 512


def test_face_check_refuses_more_pixels_than_allowed(face_check: FaceCheckHandler) -> None:
    assert face_check.max_pixels == MAX_PIXELS
    handler = FaceCheckHandler()
    handler.initialize(local_context("face_check", REPO_ROOT, model_config("face_check")))
    handler.max_pixels = 20 * 20 - 1
    [answer] = handler.handle([{"data": encode(Image.new("RGB", (20, 20)))}], handler.context)
    assert answer == {"error": "image_too_many_pixels"}


@pytest.mark.parametrize("key", RETIRED_CONFIG_KEYS)
def test_a_model_config_naming_a_contract_parameter_is_refused(key: str) -> None:
    """The crop, the pixel limit, the threshold, points and bounds are core.parameters's alone."""
    handler = FaceCheckHandler()
    with pytest.raises(ValueError, match=key):
        handler.initialize(
            local_context("face_check", REPO_ROOT, model_config("face_check", **{key: 1}))
        )


def test_face_check_answers_images_below_its_floor_as_too_small(
    face_check: FaceCheckHandler,
) -> None:
    """MTCNN cannot look at an image smaller than its smallest face (its pyramid is empty)."""
    flat = encode(non_face_images()["flat"])
    batch = [
        {"data": encode(Image.new("RGB", (1, 1)), "PNG")},
        {"data": encode(Image.new("RGB", (19, 300)))},
        {"data": flat},
        {"data": encode(Image.new("RGB", (20, 20)))},
    ]
    answers = face_check.handle(batch, face_check.context)
    assert answers[0] == answers[1] == {"error": "image_too_small"}
    assert answers[2]["count"] == answers[3]["count"] == 0


def test_an_image_the_model_fails_on_fails_alone() -> None:
    """Without the floor, a 1 x 1 image crashes MTCNN: that request alone gets an error."""
    handler = FaceCheckHandler()
    handler.initialize(local_context("face_check", REPO_ROOT, model_config("face_check")))
    handler.min_side = 1  # let the tiny image reach the detector
    flat = encode(non_face_images()["flat"])
    batch = [{"data": flat}, {"data": encode(Image.new("RGB", (1, 1)), "PNG")}, {"data": flat}]
    answers = handler.handle(batch, handler.context)
    assert answers[1] == {"error": "image_unprocessable"}
    assert answers[0] == answers[2] and answers[0]["count"] == 0


def test_face_regions_isolates_a_failing_image(
    untrained_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = regions_handler(untrained_checkpoint)
    detect = handler.predict

    def fails_on_odd_widths(images: list[Image.Image]) -> list[Any]:
        if any(image.width % 2 for image in images):
            raise RuntimeError("injected model failure")
        return detect(images)

    monkeypatch.setattr(handler, "predict", fails_on_odd_widths)
    batch = [
        {"data": encode(Image.new("RGB", (321, 320)))},
        {"data": encode(Image.new("RGB", (320, 320)))},
    ]
    answers = handler.handle(batch, handler.context)
    assert answers[0] == {"error": "image_unprocessable"}
    check_regions_answer(answers[1], 320, 320)


def test_checkpoint_round_trip_is_fp16_on_disk_and_fp32_loaded(tmp_path: Path) -> None:
    state = {"w": torch.randn(3, 3), "n": torch.tensor(5)}
    path = save_checkpoint(tmp_path / "c.pt", state, backbone="resnet50_fpn", meta={"epochs": 2})
    raw = torch.load(path, weights_only=True)
    assert raw["model"]["w"].dtype == torch.float16 and raw["backbone"] == "resnet50_fpn"
    loaded = load_checkpoint(path)
    assert loaded.state_dict["w"].dtype == torch.float32 and loaded.state_dict["n"].item() == 5
    assert torch.allclose(loaded.state_dict["w"], state["w"], atol=1e-2)
    assert loaded.trained and loaded.meta == {"trained": True, "epochs": 2}


def check_regions_answer(answer: dict[str, Any], width: int, height: int) -> None:
    """The documented JSON shape: where each part is, and whether all three were found."""
    assert set(answer) == {"complete", "regions", "threshold", "width", "height", "crop", "model"}
    assert answer["crop"] == CROP.as_dict()
    assert (answer["width"], answer["height"]) == (width, height)
    assert answer["model"] == {"name": "face_regions", "version": "1.0", "trained": False}
    assert set(answer["regions"]) == set(PARTS)
    for region in answer["regions"].values():
        assert set(region) == {"found", "box", "presence"}
        if region["found"]:
            assert answer["threshold"] <= region["presence"] <= 1
            x1, y1, x2, y2 = region["box"]
            assert 0 <= x1 <= x2 <= width and 0 <= y1 <= y2 <= height
        else:
            assert region["box"] is None and region["presence"] < answer["threshold"]
    assert answer["complete"] == all(r["found"] for r in answer["regions"].values())


def test_face_regions_answers_the_documented_shape_for_a_batch_of_two(
    untrained_checkpoint: Path,
) -> None:
    handler = regions_handler(untrained_checkpoint)
    face = Image.open(NEUTRAL[0]).convert("RGB") if NEUTRAL else non_face_images()["shapes"]
    other = non_face_images()["gradient"].resize((300, 420))
    answers = handler.handle(
        [{"data": encode(face)}, {"body": encode(other, "PNG")}], handler.context
    )
    assert len(answers) == 2
    check_regions_answer(answers[0], face.width, face.height)
    check_regions_answer(answers[1], 300, 420)
    assert answers[0]["threshold"] == 0.75


class FixedDetector:
    """Stands in for the network: the same detections (label, score, box) for every image."""

    def __init__(self, detections: list[tuple[int, float, tuple[float, ...]]]) -> None:
        self.labels = torch.tensor([label for label, _, _ in detections])
        self.scores = torch.tensor([score for _, score, _ in detections])
        self.boxes = torch.tensor([box for _, _, box in detections])

    def __call__(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        return [{"boxes": self.boxes, "labels": self.labels, "scores": self.scores} for _ in images]


# face 0.80 (and a weaker overlapping face box), T-zone 0.90, jaw 0.76.
PARTS_FOUND = FixedDetector(
    [
        (encode_label(0), 0.80, (20.0, 10.0, 220.0, 250.0)),
        (encode_label(0), 0.30, (22.0, 12.0, 220.0, 248.0)),
        (encode_label(1), 0.90, (60.0, 60.0, 180.0, 150.0)),
        (encode_label(2), 0.76, (50.0, 150.0, 190.0, 250.0)),
    ]
)


@pytest.mark.parametrize(
    ("threshold", "found"),
    [
        (None, {"face": True, "t_zone": True, "jaw": True}),  # core.parameters's: 0.75
        (0.77, {"face": True, "t_zone": True, "jaw": False}),
        (0.95, {"face": False, "t_zone": False, "jaw": False}),
    ],
)
def test_face_regions_finds_parts_by_the_threshold(
    untrained_checkpoint: Path, threshold: float | None, found: dict[str, bool]
) -> None:
    handler = regions_handler(untrained_checkpoint)
    assert handler.threshold == PART_THRESHOLD
    handler.threshold = threshold or handler.threshold
    handler.model = PARTS_FOUND
    [answer] = handler.handle([{"data": encode(non_face_images()["shapes"])}], handler.context)
    check_regions_answer(answer, 640, 480)
    assert {part: r["found"] for part, r in answer["regions"].items()} == found
    assert answer["complete"] == all(found.values())
    if found["face"]:  # the best box of the part, not the weaker one beside it
        assert answer["regions"]["face"] == {
            "found": True, "box": [20.0, 10.0, 220.0, 250.0], "presence": 0.8
        }  # fmt: skip


def test_face_regions_answers_a_bad_image_without_failing_the_batch(
    untrained_checkpoint: Path,
) -> None:
    handler = regions_handler(untrained_checkpoint)
    image = non_face_images()["flat"]
    answers = handler.handle(
        [{"data": b"\x89PNG broken"}, {"data": encode(image)}], handler.context
    )
    assert answers[0] == {"error": "image_corrupt"}
    check_regions_answer(answers[1], image.width, image.height)
