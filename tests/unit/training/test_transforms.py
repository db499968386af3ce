"""Transform presets keep boxes on the pixels they label."""

from __future__ import annotations

import random

import pytest
import torch
from PIL import Image, ImageDraw
from torchvision import tv_tensors
from torchvision.transforms import v2

from model_server.training.face_regions.transforms import PERTURBATIONS, get_transform

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:torchvision.io.image")

BOXES = [[60.0, 50.0, 260.0, 290.0], [100.0, 90.0, 220.0, 170.0], [90.0, 170.0, 230.0, 280.0]]


def sample(fill_box: int = 1) -> tuple[Image.Image, dict]:
    image = Image.new("RGB", (320, 320))
    ImageDraw.Draw(image).rectangle([int(v) for v in BOXES[fill_box]], fill=(255, 255, 255))
    target = {
        "boxes": tv_tensors.BoundingBoxes(BOXES, format="XYXY", canvas_size=(320, 320)),
        "labels": torch.tensor([1, 2, 3]),
        "image_id": 7,
    }
    return image, target


def bright_box(image: torch.Tensor) -> list[float]:
    ys, xs = torch.nonzero(image.float().mean(0) > 0.5, as_tuple=True)
    return [xs.min().item(), ys.min().item(), xs.max().item() + 1, ys.max().item() + 1]


def test_flip_mirrors_boxes() -> None:
    image, target = sample()
    out, t = v2.Compose([v2.ToImage(), v2.RandomHorizontalFlip(1.0)])(image, target)
    assert t["boxes"][1].tolist() == pytest.approx([100.0, 90.0, 220.0, 170.0])  # symmetric box
    assert t["boxes"][0].tolist() == pytest.approx([60.0, 50.0, 260.0, 290.0])
    assert bright_box(out) == pytest.approx(t["boxes"][1].tolist(), abs=1.5)


@pytest.mark.parametrize("name", ["rotation", "eval", "blur", "jpeg", "low_light"])
def test_geometric_presets_keep_the_box_on_its_pixels(name: str) -> None:
    image, target = sample()
    out, t = get_transform(name)(image, target)
    assert out.dtype == torch.float32 and out.shape == (3, 320, 320)
    if name == "low_light":
        out = out / out.max()
    # The box is the hull of the rotated rectangle, which is the bright pixels' bounding box.
    assert bright_box(out) == pytest.approx(t["boxes"][1].tolist(), abs=3.0)
    assert t["labels"].tolist() == [1, 2, 3]


def test_train_preset_invariants() -> None:
    for seed in range(12):
        random.seed(seed)
        torch.manual_seed(seed)
        image, target = sample()
        out, t = get_transform("train")(image, target)
        boxes = t["boxes"]
        assert out.dtype == torch.float32 and out.min() >= 0 and out.max() <= 1
        assert t["labels"].tolist() == [1, 2, 3]  # no part dropped
        assert (boxes[:, 0] >= 0).all() and (boxes[:, 2] <= 320).all()
        assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        original = torch.tensor([(b[2] - b[0]) * (b[3] - b[1]) for b in BOXES])
        assert ((areas / original) > 0.55).all() and ((areas / original) < 1.8).all()


def test_train_preset_geometry_tracks_pixels() -> None:
    # Photometric steps off, so the white rectangle stays findable after flip + affine.
    geometric = v2.Compose(
        [
            v2.ToImage(),
            v2.RandomHorizontalFlip(0.5),
            v2.RandomAffine(degrees=8, translate=(0.06, 0.06), scale=(0.85, 1.15)),
            v2.ToDtype(torch.float32, scale=True),
        ]
    )
    for seed in range(8):
        torch.manual_seed(seed)
        out, t = geometric(*sample())
        assert bright_box(out) == pytest.approx(t["boxes"][1].tolist(), abs=3.0)


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_perturbations_are_deterministic(name: str) -> None:
    first, t1 = get_transform(name)(*sample())
    second, t2 = get_transform(name)(*sample())
    assert torch.equal(first, second) and torch.equal(t1["boxes"], t2["boxes"])
