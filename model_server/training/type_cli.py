"""``python -m model_server.training type-model``: features, honest evaluation, artefact, plots.

See :mod:`model_server.training.type_model` for the protocol. Figures go to
``--metrics`` (JSON) and two PNGs beside it; the served artefact to ``--out``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from tqdm import tqdm

from core.dataset import default_dataset_dir
from core.taxonomy import PARTS
from model_server.runtime.embedding import FaceEmbedder, Features
from model_server.runtime.face_detector import FaceDetector
from model_server.runtime.type_model import TypeModel
from model_server.tools.dlib_weights import converted
from model_server.training import REPO_ROOT
from model_server.training import labels as lb
from model_server.training import type_model as tm
from model_server.training.datasets import person_of
from model_server.training.report import write_model_card
from model_server.training.type_stability import (
    crop_embeddings,
    expression_pairs,
    photo_figures,
    reencoding,
)

WEIGHTS_DIR = REPO_ROOT / "model_server" / "weights"
FEATURES = "upright-crop-torch-v2"  # with the view settings: a cache of others is rebuilt
# The served views (test-time augmentation), chosen by ``type-views`` (weights/eval/type_views.json)
SERVED_FEATURES = Features(mirror=True, views=((0.0, 0.0, 1.0),), gain=True)


def extract_features(
    dataset_dir: Path, cache: Path, limit_people: int = 0, features: Features = SERVED_FEATURES
) -> tuple[list[str], dict[str, np.ndarray]]:
    """(photo names, region -> (n, 128)) for every London photo with a face; cached.

    The features are the served ones: the gateway's upright crop of MTCNN's largest face,
    embedded as the ``face_type`` handler embeds it."""
    photos = sorted((dataset_dir / "images").glob("*.jpg"))
    if limit_people:
        keep = sorted({person_of(p.name) for p in photos})[:limit_people]
        photos = [p for p in photos if person_of(p.name) in keep]
    names = [p.name for p in photos]
    if cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        kind = f"{FEATURES} {features.as_meta()}"
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
    kind = np.array(f"{FEATURES} {features.as_meta()}")
    np.savez(cache, names=np.array(found), kind=kind, **vectors)
    return found, vectors


def load_faces(dataset_dir: Path, cache: Path, limit_people: int = 0) -> tuple[list[str], tm.Faces]:
    """(photo names, their features and targets)."""
    names, features = extract_features(dataset_dir, cache, limit_people)
    return names, targets(names, dataset_dir, features)


def targets(names: list[str], dataset_dir: Path, features: dict[str, np.ndarray]) -> tm.Faces:
    """The photos' people, sexes and targets (mean rating z-scored within sex), with features."""
    means = {k.lstrip("X"): v for k, v in lb.read_mean_ratings(dataset_dir / "ratings.csv").items()}
    info = lb.read_faces_info(dataset_dir / "faces_info.csv")
    sex_of = {k.lstrip("X"): row["face_sex"] for k, row in info.items()}
    people = np.array([person_of(n) for n in names])
    present = set(people.tolist())
    z = tm.z_within({p: means[p] for p in present}, {p: sex_of[p] for p in present})
    return tm.Faces(
        people=people,
        sexes=np.array([sex_of[p] for p in people]),
        target=np.array([z[p] for p in people]),
        features=features,
    )


def photo_paths(dataset_dir: Path, names: list[str]) -> list[Path]:
    return [dataset_dir / "images" / name for name in names]


def plot_scatter(result: dict[str, Any], name: str, path: Path) -> None:
    rated, scores = result["rated"], result["scores"][name]
    people = sorted(rated)
    fig, ax = plt.subplots(figsize=(5, 5), dpi=110)
    ax.scatter([rated[p] for p in people], [scores[p] for p in people], s=14, alpha=0.8)
    ax.set_xlabel("mean rating (z within sex)")
    ax.set_ylabel(f"predicted, out of fold ({name})")
    ax.set_title(f"r = {result['all'][name].r:.2f} over {len(people)} people")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_null(null: list[dict[str, float]], observed: float, name: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=110)
    ax.hist([n["exact"] * 100 for n in null], bins=20, color="#9aa", label="shuffled labels")
    ax.axvline(observed * 100, color="#e84545", label=f"observed ({name})")
    ax.set_xlabel("exact type, % of people")
    ax.set_ylabel("shuffles")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, add_help=add_help)
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--cache", type=Path, default=REPO_ROOT / "var/type_model/features.npz")
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR / "type_model.json")
    p.add_argument("--metrics", type=Path, default=WEIGHTS_DIR / "eval/type_model.json")
    p.add_argument("--card", type=Path, default=WEIGHTS_DIR / "MODEL_CARD.md")
    p.add_argument(
        "--detector", type=Path, default=WEIGHTS_DIR / "face_regions.pt", help="for the card"
    )
    p.add_argument("--folds", type=int, default=10)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--shuffles", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="processes for the permutation null")
    p.add_argument("--limit-people", type=int, default=0, help="first N people (tests)")
    p.add_argument(
        "--stability-photos", type=int, default=0, help="re-encode only the first N (tests)"
    )
    return p


def with_null(result: dict[str, Any], null: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Every predictor's observed figures (all people, and ``:men``) with its permutation p
    values and the null's mean and 95th percentile of the exact rate."""
    figures: dict[str, Any] = {}
    for group in ("all", "men"):
        for name, observed in result[group].items():
            key = name if group == "all" else f"{name}:men"
            exact = [n["exact"] for n in null.get(key, [])]
            figures[key] = observed.as_dict() | {
                "p_exact": round(tm.p_value(observed.exact, exact), 4),
                "p_r": round(tm.p_value(observed.r, [n["r"] for n in null.get(key, [])]), 4)
                if observed.r is not None
                else None,
                "null_exact_mean": round(float(np.mean(exact)), 4) if exact else None,
                "null_exact_p95": round(float(np.percentile(exact, 95)), 4) if exact else None,
            }
    return figures


def served_artefact(
    faces: tm.Faces,
    protocol: tm.Protocol,
    result: dict[str, Any],
    photo: dict[str, np.ndarray],
    served: str,
) -> dict[str, Any]:
    """The ridges fitted on everyone, with what serving one photo at a time needs: cut points
    and calibration from the out-of-fold photo predictions, the types' bounds on the true
    rating from the people's ratings (seed quotas)."""
    return tm.train_type_model(faces, protocol) | {
        "cut_points": {n: tm.cut_points(dict(enumerate(v))) for n, v in photo.items()},
        "calibration": {n: tm.calibrate(v, faces.target) for n, v in photo.items()},
        "rating_cuts": tm.cut_points(result["rated"]),
        "served": served,
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    started = time.time()
    names, faces = load_faces(args.dataset_dir, args.cache, args.limit_people)
    protocol = tm.Protocol(args.folds, args.repeats, args.seed)
    result = tm.evaluate_all(faces, protocol)
    with tm.iter_progress(args.shuffles, "permutation null") as bar:
        null = tm.permutation_null(faces, protocol, args.shuffles, bar.update, args.workers)
    figures = with_null(result, null)
    # The best exact type on all people; on a tie, the seed's vote (it keeps each region's
    # meaning), then the average, then the face alone.
    served = max(("seed_vote", "average", "face"), key=lambda n: result["all"][n].exact)
    majority = max(np.bincount(list(result["true_types"].values()))) / len(result["true_types"])
    metadata = {
        "protocol": vars(protocol) | {"shuffles": args.shuffles, "alphas": list(tm.ALPHAS)},
        "people": len(result["rated"]),
        "photos": len(faces.people),
        "men": len(set(faces.people[faces.sexes == "male"].tolist())),
        "majority_baseline": round(float(majority), 4),
        "served": served,
        "features": SERVED_FEATURES.as_meta(),
    }
    photo = dict(result["photo_scores"])
    photo["average"] = np.mean([photo[r] for r in PARTS], axis=0)
    artefact = served_artefact(faces, protocol, result, photo, served)
    model = TypeModel(artefact)
    regions = {r: photo[r] for r in PARTS}
    metadata["stability"] = {
        "expression": expression_pairs(names, regions, model),
        "photos": photo_figures(names, regions, result["true_types"], model),
        "reencoding": reencoding(
            photo_paths(args.dataset_dir, names)[: args.stability_photos or None],
            model,
            SERVED_FEATURES,
        ),
    }
    metadata["minutes"] = round((time.time() - started) / 60, 1)
    artefact |= {"metrics": {k: figures[k] for k in (served, f"{served}:men")}, "meta": metadata}
    tm.save_json(args.out, artefact)
    tm.save_json(args.metrics, {"figures": figures, "meta": metadata})
    plots = {name: args.metrics.with_suffix(f".{name}.png") for name in ("scatter", "null")}
    plot_scatter(result, "average" if served == "average" else "face", plots["scatter"])
    plot_null(null.get(served, []), result["all"][served].exact, served, plots["null"])
    write_model_card(args.card, args.detector, args.metrics)
    print(f"type model -> {args.out} ({args.out.stat().st_size / 1e3:.0f} kB), served: {served}")
    for key in ("face", "t_zone", "jaw", "average", "seed_vote", "face:men", "seed_vote:men"):
        print(f"  {key:<14} {figures[key]}")
    print(f"  stability      {metadata['stability']}")
    return {"figures": figures, "meta": metadata}
