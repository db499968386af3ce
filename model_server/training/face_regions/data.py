"""What the part detector learns from: the London face crops as a detection dataset.

Each sample is the gateway's upright crop of the largest face (MTCNN box + eyes, rebuilt from the
auto-label file, :mod:`.autolabel`), with its three part boxes labelled ``encode_label(part)``;
people are split into training and held-out sets by a seeded shuffle balanced by sex
(:func:`load_data`), with face-free crops added as negatives.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torchvision import tv_tensors

from core.crop import upright_crop
from core.taxonomy import PARTS
from model_server.paths import TRAINING_WORK_DIR
from model_server.runtime.part_labels import encode_label
from model_server.training import london
from model_server.training.face_regions import autolabel
from model_server.training.face_type import ratings
from model_server.training.london import person_of

AUTOLABELS = TRAINING_WORK_DIR / "autolabels.json"


@dataclass
class Sample:
    image_id: int
    stem: str
    person: str
    type_index: int
    crop: Image.Image
    boxes: list[list[float]]  # one XYXY box per part, in PARTS order; none for a negative


def negative_samples(count: int, size: int, seed: int) -> list[Sample]:
    """Crops without a face (flat colour, gradient, noise, blocks), so blank input finds nothing.

    Generated, seeded; ids are negative so they never collide with a photo's.
    """
    rng = random.Random(seed)
    samples = []
    for i in range(count):
        kind = i % 4
        base = tuple(rng.randrange(256) for _ in range(3))
        image = Image.new("RGB", (size, size), base)
        if kind == 1:
            other = tuple(rng.randrange(256) for _ in range(3))
            image = Image.linear_gradient("L").resize((size, size)).convert("RGB")
            image = Image.composite(
                Image.new("RGB", image.size, base),
                Image.new("RGB", image.size, other),
                image.convert("L"),
            )
        elif kind == 2:
            image = Image.effect_noise((size, size), rng.uniform(20, 90)).convert("RGB")
        elif kind == 3:
            for _ in range(rng.randrange(2, 8)):
                x, y = rng.randrange(size), rng.randrange(size)
                w, h = rng.randrange(16, size // 2), rng.randrange(16, size // 2)
                colour = tuple(rng.randrange(256) for _ in range(3))
                image.paste(colour, (x, y, min(size, x + w), min(size, y + h)))
        samples.append(Sample(-1 - i, f"negative_{i}", "", -1, image, []))
    return samples


def load_samples(
    dataset_dir: Path,
    autolabels: Mapping[str, Any],
    types: Mapping[str, int],
    *,
    people: set[str] | None = None,
) -> list[Sample]:
    """Crops and labelled boxes of every auto-labelled image (of ``people`` when given)."""
    boxes_by_image: dict[int, dict[int, list[float]]] = {}
    for ann in autolabels["annotations"]:
        x, y, w, h = ann["bbox"]
        boxes_by_image.setdefault(ann["image_id"], {})[ann["category_id"] - 1] = [
            x,
            y,
            x + w,
            y + h,
        ]
    samples = []
    for image in autolabels["images"]:
        person = person_of(image["file_name"])
        if (people is not None and person not in people) or person not in types:
            continue
        parts = boxes_by_image.get(image["id"], {})
        if len(parts) != len(PARTS):
            continue
        face = image["face"]
        marks = list(face["landmarks"].values())
        with Image.open(dataset_dir / "images" / image["file_name"]) as img:
            crop = upright_crop(
                img.convert("RGB"),
                face["box"],
                marks[0],
                marks[1],
                margin=image["crop"]["margin"],
                size=image["crop"]["size"],
            )
        samples.append(
            Sample(
                image_id=int(image["id"]),
                stem=Path(image["file_name"]).stem,
                person=person,
                type_index=types[person],
                crop=crop.image,
                boxes=[parts[i] for i in range(len(PARTS))],
            )
        )
    return samples


def split_people(
    people: Sequence[str], *, test_people: int, seed: int, groups: Mapping[str, str] | None = None
) -> tuple[list[str], list[str]]:
    """(train, test) person ids: a seeded shuffle, balanced across ``groups`` (e.g. sex)."""
    rng = random.Random(seed)
    by_group: dict[str, list[str]] = {}
    for p in sorted(set(people)):
        by_group.setdefault((groups or {}).get(p, ""), []).append(p)
    total = sum(len(v) for v in by_group.values())
    test: list[str] = []
    keys = sorted(by_group)
    for i, key in enumerate(keys):
        members = by_group[key]
        rng.shuffle(members)
        share = (
            test_people - len(test)
            if i == len(keys) - 1
            else round(test_people * len(members) / total)
        )
        test.extend(members[:share])
    train = sorted(p for p in people if p not in set(test))
    return sorted(set(train)), sorted(test)


class FaceRegions(torch.utils.data.Dataset):
    """``(image tensor, target)`` pairs in torchvision detection format."""

    def __init__(self, samples: Sequence[Sample], transforms: Callable[..., Any]) -> None:
        self.samples = list(samples)
        self.transforms = transforms

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        s = self.samples[index]
        target: dict[str, Any] = {
            "boxes": tv_tensors.BoundingBoxes(
                torch.tensor(s.boxes, dtype=torch.float32).reshape(-1, 4),
                format="XYXY",
                canvas_size=(s.crop.height, s.crop.width),
            ),
            "labels": torch.tensor(
                [encode_label(p) for p in range(len(s.boxes))], dtype=torch.int64
            ),
            "image_id": s.image_id,
        }
        image, target = self.transforms(s.crop, target)
        return image.as_subclass(torch.Tensor), {
            "boxes": target["boxes"].as_subclass(torch.Tensor).float(),
            "labels": target["labels"],
            "image_id": torch.tensor(s.image_id),
        }


def collate(batch: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(zip(*batch, strict=True))


# ----------------------------------------------------------------------------- a run's data
def ensure_labels(
    dataset_dir: Path, path: Path, within: str
) -> tuple[dict[str, int], dict[str, str]]:
    """(type index per person, sex per person), building ``path`` when absent."""
    if not path.exists() or json.loads(path.read_text()).get("ranked_within") != within:
        ratings.save_labels(ratings.build_labels(dataset_dir, within=within), path, within=within)
    body = json.loads(path.read_text())
    return ratings.load_labels(path), {f["person"]: f["sex"] for f in body["faces"]}


def ensure_autolabels(dataset_dir: Path, path: Path) -> dict[str, Any]:
    if not path.exists():
        autolabel.save_json(autolabel.autolabel_images(london.photos(dataset_dir)), path)
    return json.loads(path.read_text())


@dataclass
class TrainingData:
    """What a run trains and tests on, split by person."""

    dataset_dir: Path
    types: dict[str, int]
    coco: dict[str, Any]
    train_people: list[str]
    test_people: list[str]
    samples: list[Any]


def load_data(args: argparse.Namespace) -> TrainingData:
    dataset_dir = london.require_dataset(args.dataset_dir)
    types, sexes = ensure_labels(dataset_dir, args.labels, args.within)
    coco = ensure_autolabels(dataset_dir, args.autolabels)
    people = sorted({person_of(i["file_name"]) for i in coco["images"]} & set(types))
    train_people, test_people = split_people(
        people, test_people=args.test_people, seed=args.seed, groups=sexes
    )
    if args.limit_people:
        train_people = train_people[: args.limit_people]
    samples = load_samples(dataset_dir, coco, types, people=set(train_people))
    samples += negative_samples(round(args.negatives * len(samples)), args.image_size, args.seed)
    print(f"train: {len(samples)} crops of {len(train_people)} people; test: {len(test_people)}")
    return TrainingData(dataset_dir, types, coco, train_people, test_people, samples)
