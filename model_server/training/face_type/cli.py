"""The type model's commands: ``labels`` (survey ratings -> types) and ``type-model``.

``type-model`` (``make train``) reads every London photo's served features under the fitting
and report edits (:mod:`.variant_features`, cached under ``var/type_model``; built when missing),
chooses the stability penalty and the near threshold on the choosing half (:mod:`.choose`),
runs the person-grouped CV with its permutation null on everyone (:mod:`.stable_ridge`,
:mod:`.steady_eval`), fits the served artefact on everyone (:mod:`.served`: the ridges, cut
points, calibrations, noise, near and identity thresholds), measures its steadiness for one to
three photos under both families of edits and the identity check (:mod:`.identity_check`), and
writes ``--out`` (``type_model.json``), ``--metrics`` (JSON) with three PNGs beside it, and the
card. From the cache it takes about 3 min on 2 cores.
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
from model_server.cards.model_card import write_model_card
from model_server.paths import EVAL_DIR, WEIGHTS_DIR
from model_server.runtime.type_model import TypeModel
from model_server.training import london
from model_server.training.face_type import (
    choose,
    identity_check,
    ratings,
    served,
    stability,
    steady_eval,
    train,
)
from model_server.training.face_type.data import SERVED_FEATURES, save_json
from model_server.training.face_type.edits import FAMILIES
from model_server.training.face_type.plots import plot_margin, plot_null, plot_scatter
from model_server.training.face_type.stable_ridge import Penalty, fold_plan
from model_server.training.face_type.steadiness import unit_model
from model_server.training.face_type.steady_fit import VariantData, load_variant_data, predicted
from model_server.training.face_type.variant_features import CACHE_DIR


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
    p.add_argument("--cache-dir", type=Path, default=CACHE_DIR, help="the variant features")
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR / "type_model.json")
    p.add_argument("--metrics", type=Path, default=EVAL_DIR / "type_model.json")
    p.add_argument("--card", type=Path, default=WEIGHTS_DIR / "MODEL_CARD.md")
    p.add_argument(
        "--detector", type=Path, default=WEIGHTS_DIR / "face_regions.pt", help="for the card"
    )
    p.add_argument("--folds", type=int, default=10)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--choose-repeats", type=int, default=3, help="repeats of the choice's CV")
    p.add_argument("--shuffles", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="processes building a missing cache")
    p.add_argument("--limit-people", type=int, default=0, help="first N people (tests)")
    return p


def run_metadata(
    args: argparse.Namespace, data: VariantData, result: dict[str, Any], chosen: dict[str, Any]
) -> dict[str, Any]:
    """The run's description: its protocol, who it measured, what it chose and serves."""
    true_types = list(result["true_types"].values())
    majority = max(np.bincount(true_types)) / len(true_types)
    faces = data.faces
    return {
        "protocol": {"folds": args.folds, "repeats": args.repeats, "seed": args.seed}
        | {"shuffles": args.shuffles, "alphas": list(train.ALPHAS)}
        | {"choose_repeats": args.choose_repeats},
        "people": len(result["rated"]),
        "photos": len(faces.people),
        "men": len(set(faces.people[faces.sexes == "male"].tolist())),
        "majority_baseline": round(float(majority), 4),
        "served": chosen["rule"],
        "chosen": chosen,
        "features": SERVED_FEATURES.as_meta(),
        "edits": {name: list(family) for name, family in FAMILIES.items()},
    }


def identity_of(data: VariantData, halves: dict[str, list[str]]) -> dict[str, Any]:
    """The identity threshold and its error rates (:mod:`.identity_check`)."""
    hard, report = data.hard, data.report
    descriptors = hard.descriptors[:, 0]
    harder = {}
    if report is not None and data.third is not None:
        names = [Path(n).stem for n in data.names]
        people = [
            p for p in sorted({n[:-3] for n in names}) if f"{p}_03" in names and f"{p}_08" in names
        ]
        neutral = [names.index(f"{p}_03") for p in people]
        smiling = descriptors[[names.index(f"{p}_08") for p in people]]
        harder["report_edits"] = (smiling, report.descriptors[neutral], report.found[neutral])
        thirds = [london.person_of(n) for n in data.third.names]
        rows = [thirds.index(p) for p in people if p in thirds]
        keep = [i for i, p in enumerate(people) if p in thirds]
        harder["third_photo"] = (
            smiling[keep],
            data.third.descriptors[rows][:, :1],
            data.third.found[rows][:, :1],
        )
    return identity_check.identity_figures(descriptors, data.names, halves, harder)


def evaluated(args: argparse.Namespace, data: VariantData, penalty: Penalty) -> dict[str, Any]:
    """The final protocol: the chosen penalty with its null, and the plain ridge (before)."""
    halves = {h: choose.half_people(data.names, h) for h in ("choose", "report")}
    plan = fold_plan(data.faces.people, train.Protocol(args.folds, args.repeats, args.seed))
    y = steady_eval.null_targets(data, args.shuffles, args.seed)
    after = predicted(data, y, plan, penalty)
    figures, result, null = steady_eval.accuracy(data, after, y, halves)
    before = predicted(data, y[:, :1], plan, Penalty())
    before_figures, _, _ = steady_eval.accuracy(data, before, y[:, :1], halves)
    return {
        "halves": halves, "after": after, "before": before, "figures": figures,
        "before_figures": before_figures, "result": result, "null": null,
    }  # fmt: skip


def serving(args: argparse.Namespace, data: VariantData, run: dict[str, Any], rule: str) -> dict:
    """What serving needs beside the ridges: noise, near threshold, identity threshold."""
    noises = served.measured_noise(data, run["after"])
    threshold = served.near_threshold(data, run["after"], noises, rule, run["halves"]["choose"])
    identity = identity_of(data, run["halves"])
    return {
        "served": rule, "noise": noises, "near_threshold": threshold,
        "identity_threshold": identity["threshold"], "identity": identity,
    }  # fmt: skip


def stability_of(data: VariantData, run: dict[str, Any], model: TypeModel) -> dict[str, Any]:
    """Before (the plain ridge, its own noise, the same threshold) and after, both families."""
    before = run["before"]
    before_model = unit_model(
        before.cuts(), model.combination, served.measured_noise(data, before), model.near_threshold
    )
    names, photo = data.names, {p: run["after"].photos[:, 0, k] for k, p in enumerate(PARTS)}
    return {
        "after": steady_eval.steadiness_tables(data, run["after"], model, run["halves"]),
        "before": steady_eval.steadiness_tables(data, before, before_model, run["halves"]),
        "expression": stability.expression_pairs(names, photo, model),
        "photos": stability.photo_figures(names, photo, run["result"]["true_types"], model),
    }


def serving_meta(settings: dict, artefact: dict, after: Any) -> dict[str, Any]:
    """What the artefact serves beside the ridges, and each region's noise as a share of the
    spread of its out-of-fold photo values."""
    spread = after.photos[:, 0].std(axis=0)
    one = settings["noise"][1]
    return {
        "noise": {str(n): v for n, v in settings["noise"].items()},
        "noise_ratio": {p: round(one[p] / float(spread[k]), 4) for k, p in enumerate(PARTS)},
        "near_threshold": settings["near_threshold"],
        "identity_threshold": settings["identity_threshold"],
        "penalty": artefact["penalty"],
    }


def main(args: argparse.Namespace) -> dict[str, Any]:
    started = time.time()
    data = load_variant_data(args.dataset_dir, args.cache_dir, args.workers, args.limit_people)
    assert data is not None  # built when missing
    table, chosen = choose.choose_on(
        data, train.Protocol(args.folds, args.choose_repeats, args.seed)
    )
    penalty = choose.penalty_named(chosen["penalty"])
    run = evaluated(args, data, penalty)
    settings = serving(args, data, run, chosen["rule"])
    artefact = served.artefact(data, run["after"], penalty, args.seed, settings)
    model = TypeModel(artefact)
    metadata = run_metadata(args, data, run["result"], chosen)
    metadata |= {"choice": table, "identity": settings["identity"]}
    metadata["serving"] = serving_meta(settings, artefact, run["after"])
    metadata["stability"] = stability_of(data, run, model)
    metadata["before"] = run["before_figures"]
    metadata["minutes"] = round((time.time() - started) / 60, 1)
    served_rule = chosen["rule"]
    figures = run["figures"]
    artefact |= {"metrics": {k: figures[k] for k in (served_rule, f"{served_rule}:men")}}
    artefact["meta"] = metadata
    save_json(args.out, artefact)
    save_json(args.metrics, {"figures": figures, "meta": metadata})
    write_plots(args.metrics, run, served_rule, metadata["stability"], model.near_threshold)
    write_model_card(args.card, args.detector, args.metrics)
    print(f"type model -> {args.out} ({args.out.stat().st_size / 1e3:.0f} kB), {chosen}")
    for key in ("face", "t_zone", "jaw", "average", "seed_vote", "seed_vote:men"):
        print(f"  {key:<14} {figures[key]}")
    return {"figures": figures, "meta": metadata}


def write_plots(
    metrics: Path, run: dict[str, Any], rule: str, steadiness: dict[str, Any], threshold: float
) -> None:
    """Predicted vs rated, the null, and flips against margin, beside the metrics JSON."""
    plots = {n: metrics.with_suffix(f".{n}.png") for n in ("scatter", "null", "margin")}
    plot_scatter(run["result"], "average" if rule == "average" else "face", plots["scatter"])
    null = [{"exact": e} for e in run["null"].get(rule, [])]
    plot_null(null, run["figures"][rule]["exact"], rule, plots["null"])
    plot_margin(steadiness["after"], threshold, plots["margin"])
