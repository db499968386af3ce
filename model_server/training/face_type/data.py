"""What the type model learns from: each London photo's served features and its person's target.

- Features: for every photo, the 128-d embeddings of the aligned face chip, of its T-zone and of
  its jaw, computed exactly as served (:func:`extract_features`), cached under ``var/``.
- Target: each person's mean rating, z-scored within sex (both photos of a person share it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from core.taxonomy import PARTS
from model_server.runtime.embedding import FaceEmbedder, Features
from model_server.runtime.face_detector import FaceDetector
from model_server.tools.dlib_weights import converted
from model_server.training import london
from model_server.training.face_type import ratings
from model_server.training.face_type.stability import crop_embeddings

FEATURES = "upright-crop-torch-v2"  # with the view settings: a cache of others is rebuilt
# The served views (test-time augmentation), chosen by ``type-views`` (weights/eval/type_views.json)
SERVED_FEATURES = Features(mirror=True, views=((0.0, 0.0, 1.0),), gain=True)


@dataclass(frozen=True)
class Faces:
    """One row per photo: its person, the person's sex and target, the region features."""

    people: np.ndarray  # (n,) person ids
    sexes: np.ndarray  # (n,)
    target: np.ndarray  # (n,) the person's mean rating z-scored within sex
    features: Mapping[str, np.ndarray]  # region -> (n, 128)


def z_within(values: Mapping[str, float], groups: Mapping[str, str]) -> dict[str, float]:
    """Each value z-scored within its group."""
    out: dict[str, float] = {}
    for group in sorted(set(groups.values())):
        keys = [k for k in values if groups[k] == group]
        mean = float(np.mean([values[k] for k in keys]))
        std = float(np.std([values[k] for k in keys])) or 1.0
        out |= {k: (values[k] - mean) / std for k in keys}
    return out


def extract_features(
    dataset_dir: Path, cache: Path, limit_people: int = 0, features: Features = SERVED_FEATURES
) -> tuple[list[str], dict[str, np.ndarray]]:
    """(photo names, region -> (n, 128)) for every London photo with a face; cached.

    The features are the served ones: the gateway's upright crop of MTCNN's largest face,
    embedded as the ``face_type`` handler embeds it."""
    photos = london.photos(dataset_dir)
    if limit_people:
        keep = sorted({london.person_of(p.name) for p in photos})[:limit_people]
        photos = [p for p in photos if london.person_of(p.name) in keep]
    names = [p.name for p in photos]
    kind = f"{FEATURES} {features.as_meta()}"
    if cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        if stored["names"].tolist() == names and str(stored.get("kind", "")) == kind:
            return names, {r: stored[r] for r in PARTS}
    detector, embedder = FaceDetector(), FaceEmbedder(converted(), features)
    rows: dict[str, list[np.ndarray]] = {r: [] for r in PARTS}
    found = []
    for path in tqdm(photos, desc="embeddings", unit="photo"):
        embedded = crop_embeddings(Image.open(path).convert("RGB"), detector, embedder)
        if embedded is None:
            continue
        found.append(path.name)
        for region, vector in embedded.items():
            rows[region].append(vector)
    vectors = {r: np.stack(v) for r, v in rows.items()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, names=np.array(found), kind=np.array(kind), **vectors)
    return found, vectors


def load_faces(dataset_dir: Path, cache: Path, limit_people: int = 0) -> tuple[list[str], Faces]:
    """(photo names, their features and targets)."""
    names, features = extract_features(dataset_dir, cache, limit_people)
    return names, targets(names, dataset_dir, features)


def targets(names: list[str], dataset_dir: Path, features: Mapping[str, np.ndarray]) -> Faces:
    """The photos' people, sexes and targets (mean rating z-scored within sex), with features."""
    means = {
        k.lstrip("X"): v for k, v in ratings.read_mean_ratings(dataset_dir / "ratings.csv").items()
    }
    info = ratings.read_faces_info(dataset_dir / "faces_info.csv")
    sex_of = {k.lstrip("X"): row["face_sex"] for k, row in info.items()}
    people = np.array([london.person_of(n) for n in names])
    present = set(people.tolist())
    z = z_within({p: means[p] for p in present}, {p: sex_of[p] for p in present})
    return Faces(
        people=people,
        sexes=np.array([sex_of[p] for p in people]),
        target=np.array([z[p] for p in people]),
        features=features,
    )


def photo_paths(dataset_dir: Path, names: list[str]) -> list[Path]:
    return [dataset_dir / "images" / name for name in names]


def save_json(path: Path, body: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=1, default=float) + "\n")
