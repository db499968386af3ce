"""Every London photo through the served path under each edit of a family, cached under ``var/``.

    python -m model_server.training type-variants [--blocks hard report third] [--workers 2]

The served path: MTCNN's largest face, the gateway's upright crop (its box edited as the edit
says), dlib's alignment and the torch face network, exactly as the ``face_type`` handler embeds
a crop (:meth:`~model_server.runtime.embedding.FaceEmbedder.face_chips` with the descriptor
chip, one forward pass a crop). Each block is a set of photos under a list of edits
(:mod:`.edits`), cached in its own file:

- ``hard``: the 204 photos, as they are and under the ten fitting variants (what the type model
  is fitted and chosen on: ~6 min on 2 cores);
- ``report``: the 204 photos under the ten report edits (reporting only);
- ``third``: each neutral photo under the third-photo edit, as it is and under both families.

Per photo and edit: each region's embedding of the crop and of its mirror image (kept apart:
the served features are their mean), dlib's face descriptor, and whether a face was found.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from core.crop import upright_crop
from core.dataset import default_dataset_dir
from core.parameters import CROP
from core.taxonomy import PARTS
from model_server.paths import VAR_DIR
from model_server.runtime.embedding import FaceEmbedder
from model_server.runtime.face_detector import DetectedFace, FaceDetector
from model_server.tools.dlib_weights import converted
from model_server.training import london
from model_server.training.face_type.data import SERVED_FEATURES
from model_server.training.face_type.edits import HARD, REPORT, THIRD, Edit, edited_box, seeded

CACHE_DIR = VAR_DIR / "type_model"
VERSION = "variants-v1"  # bump when an edit or the served path changes: caches are rebuilt
BLOCKS = ("hard", "report", "third")


@dataclass(frozen=True)
class Block:
    """Photos under edits: ``features`` (photos, edits, 2 [crop, mirror], regions, 128),
    ``descriptors`` (photos, edits, 128), ``found`` (photos, edits)."""

    names: list[str]
    edits: list[str]
    features: np.ndarray
    descriptors: np.ndarray
    found: np.ndarray

    @property
    def served(self) -> np.ndarray:
        """(photos, edits, regions, 128): the served features (the crop's and mirror's mean)."""
        return self.features.astype(np.float64).mean(axis=2)


def block_edits(block: str) -> tuple[Edit | None, list[str]]:
    """The block's base edit (the third photo's) and its edits' names ("original" first)."""
    if block == "hard":
        return None, ["original", *HARD]
    if block == "report":
        return None, list(REPORT)
    if block == "third":
        return THIRD, ["original", *HARD, *REPORT]
    raise ValueError(f"unknown block {block!r}: one of {BLOCKS}")


def block_photos(block: str, dataset_dir: Path, limit_people: int = 0) -> list[Path]:
    """The block's photos: every London photo, or (``third``) each person's neutral one."""
    photos = london.photos(dataset_dir)
    if limit_people:
        keep = sorted({london.person_of(p.name) for p in photos})[:limit_people]
        photos = [p for p in photos if london.person_of(p.name) in keep]
    return [p for p in photos if p.stem.endswith("_03")] if block == "third" else photos


_worker: dict[str, Any] = {}


def _init_worker(weights: str) -> None:
    torch.set_num_threads(1)
    _worker.update(detector=FaceDetector(), embedder=FaceEmbedder(weights, SERVED_FEATURES))


def largest_face(image: Image.Image) -> DetectedFace | None:
    faces = _worker["detector"].detect([image])[0]
    return faces[0] if faces else None


def embed_edit(image: Image.Image, face: DetectedFace, edit: Edit, name: str, base: Edit | None):
    """(features (2, regions, 128), descriptor) of the photo under ``edit``; None without a
    face. ``image`` and ``face`` are the base photo (the third photo's edit already made)."""
    edited = edit.photo(image, face.box, seeded(name, "edit"))
    found = largest_face(edited)
    if found is None:
        return None
    box = edited_box(found.box, edit.box)
    if base is not None:
        box = edited_box(box, base.box)
    left, right = found.landmarks[0], found.landmarks[1]
    crop = upright_crop(edited, box, left, right, margin=CROP.margin, size=CROP.size).image
    embedder = _worker["embedder"]
    vectors = embedder.net.embed(embedder.face_chips(crop, CROP.margin, descriptor=True))
    return vectors[:-1].reshape(2, len(PARTS), -1), vectors[-1]


def _embed_photo(path: str, block: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One photo's rows of the block: features, descriptors, found."""
    base, names = block_edits(block)
    edits = {"original": Edit(), **HARD, **REPORT}
    image = Image.open(path).convert("RGB")
    if base is not None:
        face = largest_face(image)
        image = base.photo(image, face.box, seeded(Path(path).name, "third")) if face else image
    face = largest_face(image)
    features = np.full((len(names), 2, len(PARTS), 128), np.nan, dtype=np.float32)
    descriptors = np.full((len(names), 128), np.nan, dtype=np.float32)
    found = np.zeros(len(names), dtype=bool)
    for k, name in enumerate(names):
        embedded = None if face is None else embed_edit(
            image, face, edits[name], f"{Path(path).name}|{name}", base
        )  # fmt: skip
        if embedded is not None:
            features[k], descriptors[k], found[k] = embedded[0], embedded[1], True
    return features, descriptors, found


def cache_key(block: str, photos: Sequence[Path]) -> str:
    return json.dumps([VERSION, block, block_edits(block)[1], [p.name for p in photos]])


def load_block(
    block: str, dataset_dir: Path, cache_dir: Path = CACHE_DIR, workers: int = 2,
    limit_people: int = 0, build: bool = True,
) -> Block | None:  # fmt: skip
    """The block from its cache, built (``workers`` processes) when missing or stale; None when
    stale and ``build`` is false."""
    photos = block_photos(block, dataset_dir, limit_people)
    key, cache = cache_key(block, photos), cache_dir / f"variants.{block}.npz"
    if cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        if str(stored["key"]) == key:
            return Block(
                stored["names"].tolist(), stored["edits"].tolist(), stored["features"],
                stored["descriptors"], stored["found"],
            )  # fmt: skip
    if not build:
        return None
    rows = []
    with ProcessPoolExecutor(
        workers, initializer=_init_worker, initargs=(str(converted()),)
    ) as pool:
        jobs = pool.map(_embed_photo, map(str, photos), [block] * len(photos))
        for row in tqdm(jobs, total=len(photos), desc=f"variants ({block})", unit="photo"):
            rows.append(row)
    names, edits = [p.name for p in photos], block_edits(block)[1]
    features, descriptors, found = (np.stack([r[i] for r in rows]) for i in range(3))
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        cache, key=np.array(key), names=np.array(names), edits=np.array(edits),
        features=features, descriptors=descriptors, found=found,
    )  # fmt: skip
    return Block(names, edits, features, descriptors, found)


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, add_help=add_help)
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    p.add_argument("--blocks", nargs="+", choices=BLOCKS, default=list(BLOCKS))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--limit-people", type=int, default=0, help="first N people (tests)")
    return p


def main(args: argparse.Namespace) -> int:
    dataset_dir = london.require_dataset(args.dataset_dir)
    for block in args.blocks:
        loaded = load_block(block, dataset_dir, args.cache_dir, args.workers, args.limit_people)
        assert loaded is not None
        lost = int((~loaded.found).sum())
        print(f"{block}: {len(loaded.names)} photos x {len(loaded.edits)} edits, {lost} faces lost")
    return 0
