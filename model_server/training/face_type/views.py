"""Which views of a face the served features average (test-time augmentation), by measurement.

    python -m model_server.training type-views [--workers 2]

Every London photo and its hard variants (:data:`VARIANTS`: JPEG 40 and 60, 60 % and 80 %
scale, +-5 degree rotation, +-20 % brightness, the face box shifted by 5 % of the face, the
mirror image) go through the served path (MTCNN, the gateway's upright crop, dlib's alignment,
the torch face network); each is embedded once under every candidate view (:data:`CANDIDATE_VIEWS`:
the chip as aligned, moved by 4 % of its width each way, scaled 94 % and 106 %) and its mirror.
Each candidate set of views (:data:`VIEW_SETS`), on chips as extracted and on chips whose
brightness is normalised (``gain``), is then scored by person-grouped 10-fold CV:
ridges fitted on the training people's original photos, their types cut at the out-of-fold
quota points as served, and every held-out photo and its variants typed by the fold's models.

The set is chosen on half the people (even person numbers) and reported on the other half,
which no choice saw: the share of photos keeping their served type under each variant and
under all at once, the served type's exact rate, and the cost in face-network chips.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from core.dataset import default_dataset_dir
from core.parameters import CROP
from core.taxonomy import PARTS, TYPES
from model_server.paths import EVAL_DIR
from model_server.runtime.embedding import FaceEmbedder, Features, View
from model_server.runtime.face_detector import FaceDetector
from model_server.runtime.type_model import TypeModel
from model_server.tools.dlib_weights import converted
from model_server.training import london
from model_server.training.face_type.data import Faces, save_json, targets
from model_server.training.face_type.evaluate import by_person, types_by_quota
from model_server.training.face_type.stability import BOX_SHIFT, VARIANTS, crop_of
from model_server.training.face_type.train import cut_points, fit, person_folds
from model_server.training.face_type.variant_features import CACHE_DIR

CANDIDATE_VIEWS: tuple[View, ...] = (
    (0.0, 0.0, 1.0),
    (0.04, 0.0, 1.0),
    (-0.04, 0.0, 1.0),
    (0.0, 0.04, 1.0),
    (0.0, -0.04, 1.0),
    (0.0, 0.0, 0.94),
    (0.0, 0.0, 1.06),
)
# name -> (mirror, indices into CANDIDATE_VIEWS)
VIEW_SETS: dict[str, tuple[bool, tuple[int, ...]]] = {
    "as aligned": (False, (0,)),
    "as aligned + mirror": (True, (0,)),
    "scales": (False, (0, 5, 6)),
    "scales + mirror": (True, (0, 5, 6)),
    "shifts": (False, (0, 1, 2, 3, 4)),
    "shifts + mirror": (True, (0, 1, 2, 3, 4)),
    "all 7": (False, tuple(range(7))),
    "all 7 + mirror": (True, tuple(range(7))),
}


_worker: dict[str, Any] = {}


def _init_worker(weights: str, gain: bool) -> None:
    torch.set_num_threads(1)
    features = Features(mirror=True, views=CANDIDATE_VIEWS, gain=gain)
    _worker.update(detector=FaceDetector(), embedder=FaceEmbedder(weights, features))


def _embed_photo(path: str) -> np.ndarray | None:
    """(1 + variants, 2 mirror, views, 3 regions, 128) for one photo; None if a face is lost."""
    detector, embedder = _worker["detector"], _worker["embedder"]
    image = Image.open(path).convert("RGB")
    rows = []
    for name, change in {"original": lambda im: im, **VARIANTS}.items():
        changed = change(image)
        faces = detector.detect([changed])[0]
        if not faces:
            return None
        crop = crop_of(changed, faces[0], BOX_SHIFT if name == "shift_5" else 0.0)
        vectors = embedder.net.embed(embedder.face_chips(crop, CROP.margin))
        rows.append(vectors.reshape(2, len(CANDIDATE_VIEWS), len(PARTS), -1))
    return np.stack(rows)


def embed_all(
    photos: Sequence[Path], cache: Path, workers: int, gain: bool = False
) -> tuple[list[str], np.ndarray]:
    """(photo names, features) of every photo with a face in all variants; cached."""
    names = [p.name for p in photos]
    views = [list(v) for v in CANDIDATE_VIEWS]
    key = json.dumps([names, list(VARIANTS), views, BOX_SHIFT] + ([gain] if gain else []))
    if cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        if str(stored["key"]) == key:
            return stored["names"].tolist(), stored["features"]
    kept, rows = [], []
    with ProcessPoolExecutor(
        workers, initializer=_init_worker, initargs=(str(converted()), gain)
    ) as pool:
        results = pool.map(_embed_photo, map(str, photos), chunksize=4)
        for path, row in tqdm(zip(photos, results, strict=True), total=len(photos), desc="views"):
            if row is not None:
                kept.append(path.name)
                rows.append(row)
    features = np.stack(rows).astype(np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, key=np.array(key), names=np.array(kept), features=features)
    return kept, features


def served_features(features: np.ndarray, mirror: bool, views: Sequence[int]) -> np.ndarray:
    """(photos, 1 + variants, regions, 128): the mean over the chosen views (and mirror)."""
    chosen = features[:, :, : 2 if mirror else 1][:, :, :, list(views)]
    return chosen.mean(axis=(2, 3))


def fold_values(x: np.ndarray, faces: Faces, folds: int, seed: int) -> np.ndarray:
    """(photos, 1 + variants, regions) values, each photo's from models that never saw its
    person (one person-grouped ``folds``-fold split, ridges fitted on original photos)."""
    rng = np.random.RandomState(seed)
    values = np.zeros(x.shape[:3])
    folds = min(folds, len(set(faces.people.tolist())))
    for train, test in person_folds(faces.people, folds, rng):
        for r in range(len(PARTS)):
            model = fit(x[train, 0, r], faces.target[train], faces.people[train], rng)
            values[test, :, r] = model.predict(x[test, :, r].reshape(-1, x.shape[-1])).reshape(
                len(test), -1
            )
    return values


def served_types(values: np.ndarray, combination: str) -> np.ndarray:
    """(photos, 1 + variants) type indices, cut at the originals' out-of-fold quota points."""
    originals = {part: values[:, 0, r] for r, part in enumerate(PARTS)}
    cuts = {p: cut_points(dict(enumerate(v))) for p, v in originals.items()}
    cuts["average"] = cut_points(dict(enumerate(values[:, 0].mean(axis=1))))
    unit = {"slope": 1.0, "intercept": 0.0, "sigma": 1.0}
    model = TypeModel(
        {
            "regions": {p: {"mean": [0], "scale": [1], "coef": [0], "intercept": 0} for p in PARTS},
            "cut_points": cuts,
            "calibration": dict.fromkeys(PARTS, unit),
            "rating_cuts": cuts["face"],
            "served": combination,
        }
    )
    types = np.zeros(values.shape[:2], dtype=int)
    for i, j in np.ndindex(*types.shape):
        decided = model.decide(dict(zip(PARTS, values[i, j].tolist(), strict=True)))
        types[i, j] = TYPES.index(decided.type)  # type: ignore[arg-type]
    return types


def stability(types: np.ndarray, rows: np.ndarray) -> dict[str, float]:
    """Per variant and for all at once: the share of ``rows`` photos keeping their type."""
    same = types[rows, 1:] == types[rows, :1]
    out = {name: round(float(same[:, k].mean()), 4) for k, name in enumerate(VARIANTS)}
    return out | {"all_variants": round(float(same.all(axis=1).mean()), 4)}


def evaluate_sets(
    names: Sequence[str], features: np.ndarray, faces: Faces, combination: str, seed: int
) -> dict[str, Any]:
    """Every view set's stability and exact rate on the choosing and the reporting half."""
    people = np.array([int(london.person_of(n)) for n in names])
    halves = {"choose": people % 2 == 0, "report": people % 2 == 1}
    sexes = dict(zip(faces.people.tolist(), faces.sexes.tolist(), strict=True))
    true_types = types_by_quota(by_person(faces.target, faces.people), sexes)
    truth = np.array([true_types[p] for p in faces.people])
    out: dict[str, Any] = {}
    for name, (mirror, views) in VIEW_SETS.items():
        x = served_features(features, mirror, views)
        types = served_types(fold_values(x, faces, 10, seed), combination)
        out[name] = {
            "chips": len(PARTS) * len(views) * (2 if mirror else 1),
            "views": [list(CANDIDATE_VIEWS[v]) for v in views],
            "mirror": mirror,
        } | {
            half: stability(types, rows)
            | {"exact": round(float((types[rows, 0] == truth[rows]).mean()), 4)}
            for half, rows in halves.items()
        }
    return out


def faces_of(names: Sequence[str], dataset_dir: Path) -> Faces:
    """The targets of the photos (features are not needed here)."""
    return targets(list(names), dataset_dir, {r: np.zeros((len(names), 1)) for r in PARTS})


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, add_help=add_help)
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--cache", type=Path, default=CACHE_DIR / "views.npz")
    p.add_argument("--out", type=Path, default=EVAL_DIR / "type_views.json")
    p.add_argument("--combination", default="seed_vote")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget-chips", type=int, default=6, help="face-network chips per analysis")
    p.add_argument("--limit-photos", type=int, default=0, help="first N photos (tests)")
    return p


def main(args: argparse.Namespace) -> dict[str, Any]:
    photos = london.photos(args.dataset_dir, args.limit_photos)
    sets: dict[str, Any] = {}
    for gain in (False, True):
        cache = args.cache.with_suffix(".gain.npz") if gain else args.cache
        names, features = embed_all(photos, cache, args.workers, gain)
        faces = faces_of(names, args.dataset_dir)
        evaluated = evaluate_sets(names, features, faces, args.combination, args.seed)
        sets |= {f"{n} + gain" if gain else n: f | {"gain": gain} for n, f in evaluated.items()}
    body = {"photos": len(names), "variants": list(VARIANTS), "combination": args.combination}
    body["chosen"] = chosen(sets, args.budget_chips)
    save_json(args.out, body | {"sets": sets})
    for name, figures in sets.items():
        row = {h: (figures[h]["all_variants"], worst(figures[h])) for h in ("choose", "report")}
        print(f"  {name:<29} chips {figures['chips']:>2}  (all, worst): {row}")
    print(f"chosen (at most {args.budget_chips} chips): {body['chosen']}")
    return body | {"sets": sets}


def worst(half: Mapping[str, float]) -> float:
    """The least stable single variant."""
    return min(v for k, v in half.items() if k in VARIANTS)


def chosen(sets: Mapping[str, Any], budget_chips: int) -> str:
    """The set with the best all-variant stability on the choosing half within the budget."""
    fits = {n: f for n, f in sets.items() if f["chips"] <= budget_chips}
    return max(fits, key=lambda n: (fits[n]["choose"]["all_variants"], -fits[n]["chips"]))
