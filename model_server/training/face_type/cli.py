"""The type model's commands: ``labels`` (survey ratings -> types) and ``type-model``.

``type-model`` (``make train``) computes the served features of every London photo, evaluates
the ridges by person-grouped CV against the permutation null (:mod:`.evaluate`), fits the served
artefact on everyone (:mod:`.train`), measures its stability (:mod:`.stability`), and writes
``--out`` (``type_model.json``), ``--metrics`` (JSON) with two PNGs beside it, and the card.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from core.dataset import default_dataset_dir
from core.taxonomy import PARTS
from model_server.runtime.type_model import TypeModel
from model_server.training import REPO_ROOT, WEIGHTS_DIR, london
from model_server.training.cards.model_card import write_model_card
from model_server.training.face_type import evaluate, ratings, stability, train
from model_server.training.face_type.data import (
    SERVED_FEATURES,
    Faces,
    load_faces,
    photo_paths,
    save_json,
)
from model_server.training.face_type.plots import plot_null, plot_scatter


# ----------------------------------------------------------------------------- labels
def labels_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Survey ratings -> type labels", add_help=add_help)
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--within", choices=("sex", "all"), default="sex")
    p.add_argument("--out", type=Path, default=ratings.LABELS)
    return p


def labels(args: argparse.Namespace) -> int:
    dataset_dir = london.require_dataset(args.dataset_dir)
    faces = ratings.build_labels(dataset_dir, within=args.within)
    ratings.save_labels(faces, args.out, within=args.within)
    counts = Counter((f.sex, f.type) for f in faces)
    print(f"{len(faces)} faces ranked within {args.within} -> {args.out}")
    for key in sorted(counts):
        print(f"  {key[0]:7s} {key[1]:6s} {counts[key]}")
    return 0


# ----------------------------------------------------------------------------- type-model
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


def run_metadata(
    args: argparse.Namespace, faces: Faces, result: dict[str, Any], served: str
) -> dict[str, Any]:
    """The run's description: its protocol, who it measured and what it serves."""
    true_types = list(result["true_types"].values())
    majority = max(np.bincount(true_types)) / len(true_types)
    return {
        "protocol": {"folds": args.folds, "repeats": args.repeats, "seed": args.seed}
        | {"shuffles": args.shuffles, "alphas": list(train.ALPHAS)},
        "people": len(result["rated"]),
        "photos": len(faces.people),
        "men": len(set(faces.people[faces.sexes == "male"].tolist())),
        "majority_baseline": round(float(majority), 4),
        "served": served,
        "features": SERVED_FEATURES.as_meta(),
    }


def stability_figures(
    args: argparse.Namespace,
    names: list[str],
    regions: dict[str, np.ndarray],
    result: Any,
    model: TypeModel,
) -> dict[str, Any]:
    """Expression pairs and single photos out of fold; the hard variants through serving."""
    photos = photo_paths(args.dataset_dir, names)[: args.stability_photos or None]
    return {
        "expression": stability.expression_pairs(names, regions, model),
        "photos": stability.photo_figures(names, regions, result["true_types"], model),
        "reencoding": stability.reencoding(photos, model, SERVED_FEATURES),
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    started = time.time()
    names, faces = load_faces(args.dataset_dir, args.cache, args.limit_people)
    protocol = train.Protocol(args.folds, args.repeats, args.seed)
    result = evaluate.evaluate_all(faces, protocol)
    with evaluate.iter_progress(args.shuffles, "permutation null") as bar:
        null = evaluate.permutation_null(faces, protocol, args.shuffles, bar.update, args.workers)
    figures = evaluate.with_null(result, null)
    # The best exact type on all people; on a tie, the seed's vote (it keeps each region's
    # meaning), then the average, then the face alone.
    served = max(("seed_vote", "average", "face"), key=lambda n: result["all"][n].exact)
    metadata = run_metadata(args, faces, result, served)
    photo = dict(result["photo_scores"])
    photo["average"] = np.mean([photo[r] for r in PARTS], axis=0)
    artefact = train.served_artefact(faces, protocol, result["rated"], photo, served)
    regions = {r: photo[r] for r in PARTS}
    metadata["stability"] = stability_figures(args, names, regions, result, TypeModel(artefact))
    metadata["minutes"] = round((time.time() - started) / 60, 1)
    artefact |= {"metrics": {k: figures[k] for k in (served, f"{served}:men")}, "meta": metadata}
    save_json(args.out, artefact)
    save_json(args.metrics, {"figures": figures, "meta": metadata})
    plots = {name: args.metrics.with_suffix(f".{name}.png") for name in ("scatter", "null")}
    plot_scatter(result, "average" if served == "average" else "face", plots["scatter"])
    plot_null(null.get(served, []), result["all"][served].exact, served, plots["null"])
    write_model_card(args.card, args.detector, args.metrics)
    print(f"type model -> {args.out} ({args.out.stat().st_size / 1e3:.0f} kB), served: {served}")
    for key in ("face", "t_zone", "jaw", "average", "seed_vote", "face:men", "seed_vote:men"):
        print(f"  {key:<14} {figures[key]}")
    print(f"  stability      {metadata['stability']}")
    return {"figures": figures, "meta": metadata}
