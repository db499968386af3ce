"""The steady type model's settings, chosen on the choosing half of the people only.

    python -m model_server.training type-choose [--repeats 3]

Every candidate penalty (:data:`PENALTIES`) is fitted by person-grouped CV on everyone
(:mod:`.stable_ridge`): the plain ridge and the stability penalty ``b w'Sw`` with the strength
``a`` picked by the inner CV (``b = kappa a``, kappa 10 to 1000), the same with ``a`` fixed at
100 or 1000 and ``b`` from 1e3 to 1e5, and the top 5 or 20 nuisance directions of ``S``
projected out. Each is judged on the people with even numbers only (as ``type-views`` does),
under the fitting edits only: for each rule (the seed's vote, the regions' average, the face
alone), the exact type (people's mean value, ranked within sex) and r of the regions' average;
the share of single photos keeping their type under all ten edits; and, at the near threshold
that keeps clear single photos steady (:func:`.steadiness.pick_threshold`), the share of clear
answers for one and for two photos. Two photos combine by the mean of their values (the mean
of features gives the same values: the models are linear), against the neutral photo alone.

The choice (:func:`choose`), fixed before any reporting-half figure was computed: among the
penalties whose choosing-half exact type (served rule) and r are within :data:`SLACK` of the
plain ridge's, the one with the largest share of clear single photos (near null, at the
threshold that keeps them steady); on a tie the one with more steady single photos overall.
The served rule stays the seed's vote unless another rule is better on both the exact type and
the all-ten share (then this says so: the gateway's verdict arithmetic depends on the seed's
vote, and the lead decides).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from core.dataset import default_dataset_dir
from model_server.paths import EVAL_DIR
from model_server.training import london
from model_server.training.face_type import evaluate
from model_server.training.face_type.data import save_json
from model_server.training.face_type.stable_ridge import Penalty, fold_plan
from model_server.training.face_type.steadiness import (
    noise,
    pick_threshold,
    steadiness,
    typed,
    unit_model,
)
from model_server.training.face_type.steady_fit import (
    Predicted,
    VariantData,
    load_variant_data,
    photo_sets,
    predicted,
)
from model_server.training.face_type.train import Protocol
from model_server.training.face_type.variant_features import CACHE_DIR

PENALTIES: tuple[Penalty, ...] = (
    Penalty(),
    *(Penalty(kappa=k) for k in (10, 100, 1000)),
    *(Penalty(kappa=b / a, alpha=a) for a in (100.0, 1000.0) for b in (0, 1e3, 1e4, 1e5)),
    *(Penalty(project=k) for k in (5, 20)),
)
RULES = ("seed_vote", "average", "face")
SLACK = 0.02  # exact type (one person in 52) and r may fall this much below the plain ridge's


def halves(names: list[str]) -> dict[str, np.ndarray]:
    """Rows of the choosing (even person numbers) and reporting (odd) half."""
    people = np.array([int(london.person_of(n)) for n in names])
    return {"choose": people % 2 == 0, "report": people % 2 == 1}


def half_people(names: list[str], half: str) -> list[str]:
    rows = halves(names)[half]
    return sorted({london.person_of(n) for n, keep in zip(names, rows, strict=True) if keep})


def judge(data: VariantData, values: Predicted, half: str, family: str = "hard") -> dict[str, Any]:
    """One penalty's figures on ``half``: per rule, exact type, one photo's all-edit share,
    and the near threshold with the clear shares it gives for one and two photos."""
    people = half_people(data.names, half)
    scores = {part: values.photos[:, 0, k] for k, part in enumerate(("face", "t_zone", "jaw"))}
    result = evaluate.evaluate_scores(data.faces, scores, data.faces.target, people)
    sets = photo_sets(data, values, family)
    noises = {n: noise(s, s.rows(people)) for n, s in sets.items()}
    out: dict[str, Any] = {"noise": noises}
    for rule in RULES:
        model = unit_model(values.cuts(), rule, noises)
        types = {n: typed(s, model) for n, s in sets.items()}
        rows = {n: s.rows(people) for n, s in sets.items()}
        threshold = pick_threshold(types[1], rows[1])
        out[rule] = {
            "exact": round(result["all"][rule].exact, 4),
            "r": None if result["all"][rule].r is None else round(result["all"][rule].r, 4),
            "threshold": threshold,
            **{
                f"photos_{n}": steadiness(types[n], sets[n].edits, rows[n], threshold) for n in sets
            },
            "first_photo_of_two": first_photo(types[1], sets, rows[2], data.names),
        }
    return out


def first_photo(one: Any, sets: Mapping[int, Any], rows: np.ndarray, names: list[str]) -> float:
    """Of the two-photo people on the half, the share whose neutral photo alone keeps its type
    under every edit (the "single photo" way to answer two photos)."""
    people = set(sets[2].people[rows].tolist())
    neutral = [
        i for i, n in enumerate(names) if n.endswith("_03.jpg") and london.person_of(n) in people
    ]
    kept = (one.edited[neutral] == one.base[neutral][:, None]).all(axis=1)
    return round(float(kept.mean()), 4)


def choose(table: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The penalty and rule (see the module docstring) from the choosing half's figures."""
    plain = table[Penalty().name]
    fits = {
        name: f
        for name, f in table.items()
        if f["seed_vote"]["exact"] >= plain["seed_vote"]["exact"] - SLACK
        and f["average"]["r"] >= plain["average"]["r"] - SLACK
    }
    penalty = max(
        fits,
        key=lambda n: (
            fits[n]["seed_vote"]["photos_1"]["clear_share"],
            fits[n]["seed_vote"]["photos_1"]["all"],
        ),
    )
    figures = table[penalty]
    vote = figures["seed_vote"]
    better = [
        rule
        for rule in RULES[1:]
        if figures[rule]["exact"] > vote["exact"]
        and figures[rule]["photos_1"]["all"] > vote["photos_1"]["all"]
    ]
    return {
        "penalty": penalty,
        "rule": "seed_vote",
        "rules_better_on_both": better,
        "near_threshold": float(vote["threshold"]),
        "combine": "mean of values",
    }


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, add_help=add_help)
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    p.add_argument("--out", type=Path, default=EVAL_DIR / "type_choice.json")
    p.add_argument("--folds", type=int, default=10)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2, help="processes building a missing cache")
    return p


def choose_on(data: VariantData, protocol: Protocol) -> tuple[dict[str, Any], dict[str, Any]]:
    """(every penalty's choosing-half figures, the choice) by ``protocol``'s CV."""
    plan = fold_plan(data.faces.people, protocol)
    table = {}
    for penalty in tqdm(PENALTIES, desc="choosing", unit="penalty", leave=False):
        values = predicted(data, data.faces.target[:, None], plan, penalty)
        table[penalty.name] = judge(data, values, "choose")
    return table, choose(table)


def penalty_named(name: str) -> Penalty:
    """The candidate penalty of that name."""
    return next(p for p in PENALTIES if p.name == name)


def main(args: argparse.Namespace) -> dict[str, Any]:
    started = time.time()
    data = load_variant_data(args.dataset_dir, args.cache_dir, args.workers, reporting=False)
    assert data is not None  # built when missing
    protocol = Protocol(args.folds, args.repeats, args.seed)
    table, chosen = choose_on(data, protocol)
    for name, figures in table.items():
        row = figures["seed_vote"]
        print(f"  {name:<12} exact {row['exact']} one photo: all ten {row['photos_1']['all']}"
              f", clear {row['photos_1']['clear_share']} at {row['threshold']}"
              f"; two photos clear {row['photos_2']['clear_share']}")  # fmt: skip
    body = {
        "protocol": vars(protocol),
        "half": "choose",
        "chosen": chosen,
        "minutes": round((time.time() - started) / 60, 1),
        "table": table,
    }
    save_json(args.out, body)
    print(f"chosen: {chosen}")
    return body
