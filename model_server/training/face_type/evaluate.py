"""The type model's honest figures: person-grouped CV against a within-sex permutation null.

1. Protocol (:class:`~model_server.training.face_type.train.Protocol`): outer ``folds``-fold CV
   split by person (both photos in one fold), repeated ``repeats`` times; the ridge strength
   picked by an inner person-grouped CV on each outer training set only. A person's out-of-fold
   score is the mean over their photos and the repeats.
2. Types: the out-of-fold scores cut by the seed's quota shares within sex; reported as exact
   type and within one type, against the majority baseline.
3. Null: the same protocol on targets shuffled between people of the same sex, ``shuffles``
   times; p = (1 + shuffles at least as good) / (1 + shuffles).
4. Combinations on the same CV: the face alone, the plain average of the three regions' scores,
   and the seed's weighted vote (each region's type -> its points -> the score's bounds).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from tqdm import tqdm

from core.parameters import SCORE_BOUNDS, SCORE_POINTS
from core.taxonomy import PARTS, TYPES
from model_server.runtime.scoring import type_for_score
from model_server.training.face_type import ratings
from model_server.training.face_type.data import Faces
from model_server.training.face_type.train import Protocol, out_of_fold


def by_person(values: np.ndarray, people: np.ndarray) -> dict[str, float]:
    return {p: float(values[people == p].mean()) for p in np.unique(people)}


def types_by_quota(scores: Mapping[str, float], sexes: Mapping[str, str]) -> dict[str, int]:
    """Type index per person: scores ranked within sex and cut by the seed's quota shares."""
    out: dict[str, int] = {}
    for sex in sorted(set(sexes.values())):
        out |= ratings.assign_types({p: s for p, s in scores.items() if sexes[p] == sex})
    return out


def seed_vote(region_types: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """The seed's rule per person: each region votes its type's points; bounds give the type."""
    people = next(iter(region_types.values()))
    out = {}
    for person in people:
        score = sum(SCORE_POINTS[r][region_types[r][person]] for r in PARTS)
        out[person] = TYPES.index(type_for_score(score, SCORE_BOUNDS))  # type: ignore[arg-type]
    return out


@dataclass(frozen=True)
class Score:
    r: float | None  # None for a predictor that gives types only (the seed's vote)
    exact: float
    within_one: float

    def as_dict(self) -> dict[str, float | None]:
        return {k: None if v is None else round(v, 4) for k, v in vars(self).items()}


def score(
    predicted: Mapping[str, float] | None,
    predicted_types: Mapping[str, int],
    rated: Mapping[str, float],
    true_types: Mapping[str, int],
    people: Sequence[str] | None = None,
) -> Score:
    people = sorted(people if people is not None else true_types)
    hits = np.array([predicted_types[p] == true_types[p] for p in people])
    near = np.array([abs(predicted_types[p] - true_types[p]) <= 1 for p in people])
    r = (
        float(np.corrcoef([predicted[p] for p in people], [rated[p] for p in people])[0, 1])
        if predicted is not None
        else None
    )
    return Score(r, float(hits.mean()), float(near.mean()))


def evaluate_all(
    faces: Faces, protocol: Protocol, target: np.ndarray | None = None
) -> dict[str, Any]:
    """Out-of-fold person scores and types of every predictor and combination."""
    y = faces.target if target is None else target
    photo_scores = {
        region: out_of_fold(
            faces.features[region], y, faces.people, protocol.folds, protocol.repeats, protocol.seed
        )
        for region in PARTS
    }
    return evaluate_scores(faces, photo_scores, y)


def evaluate_scores(
    faces: Faces,
    photo_scores: Mapping[str, np.ndarray],
    target: np.ndarray,
    people: Sequence[str] | None = None,
) -> dict[str, Any]:
    """:func:`evaluate_all` from the photos' out-of-fold scores (region -> (photos,)), its
    figures over ``people`` (default: everyone; types are still ranked among everyone)."""
    sexes = dict(zip(faces.people.tolist(), faces.sexes.tolist(), strict=True))
    rated = by_person(target, faces.people)
    true_types = types_by_quota(rated, sexes)
    scores = {region: by_person(photo_scores[region], faces.people) for region in PARTS}
    region_types = {region: types_by_quota(s, sexes) for region, s in scores.items()}
    average = {p: float(np.mean([scores[r][p] for r in PARTS])) for p in rated}
    predictors: dict[str, tuple[Mapping[str, float] | None, Mapping[str, int]]] = {
        **{region: (scores[region], region_types[region]) for region in PARTS},
        "average": (average, types_by_quota(average, sexes)),
        "seed_vote": (None, seed_vote(region_types)),
    }
    chosen = sorted(rated) if people is None else sorted(people)
    men = [p for p in chosen if sexes[p] == "male"]
    return {
        "photo_scores": dict(photo_scores),
        "rated": rated,
        "true_types": true_types,
        "scores": scores | {"average": average},
        "types": {name: t for name, (_, t) in predictors.items()},
        "all": {
            name: score(s, t, rated, true_types, chosen) for name, (s, t) in predictors.items()
        },
        "men": {name: score(s, t, rated, true_types, men) for name, (s, t) in predictors.items()},
    }


def shuffled_within(
    target: np.ndarray, people: np.ndarray, sexes: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """The targets with people's values permuted among people of the same sex."""
    value = by_person(target, people)
    sex_of = dict(zip(people.tolist(), sexes.tolist(), strict=True))
    moved: dict[str, float] = {}
    for sex in sorted(set(sex_of.values())):
        group = sorted(p for p in value if sex_of[p] == sex)
        moved |= dict(zip(group, rng.permutation([value[p] for p in group]), strict=True))
    return np.array([moved[p] for p in people.tolist()])


def permutation_null(
    faces: Faces,
    protocol: Protocol,
    shuffles: int,
    progress: Callable[[int], Any] | None = None,
    workers: int = 1,
) -> dict[str, list[dict[str, float | None]]]:
    """Every predictor's figures on ``shuffles`` within-sex shuffles of the people's targets.

    The shuffles are drawn first, in order, and each is evaluated with the protocol's own seed,
    so ``workers`` processes give the same figures as one."""
    rng = np.random.default_rng(protocol.seed + 1)
    targets = [
        shuffled_within(faces.target, faces.people, faces.sexes, rng) for _ in range(shuffles)
    ]
    null: dict[str, list[dict[str, float | None]]] = {}
    with ProcessPoolExecutor(workers) if workers > 1 else nullcontext() as pool:
        evaluate = partial(_null_figures, faces, protocol)
        for figures in pool.map(evaluate, targets) if pool else map(evaluate, targets):
            for name, values in figures.items():
                null.setdefault(name, []).append(values)
            if progress:
                progress(1)
    return null


def _null_figures(
    faces: Faces, protocol: Protocol, target: np.ndarray
) -> dict[str, dict[str, float | None]]:
    result = evaluate_all(faces, protocol, target)
    return {name: f.as_dict() for name, f in result["all"].items()} | {
        f"{name}:men": f.as_dict() for name, f in result["men"].items()
    }


def p_value(observed: float, null: Sequence[float]) -> float:
    """One-sided permutation p: how often a shuffle did at least as well."""
    return (1 + sum(v >= observed for v in null)) / (1 + len(null))


def with_null(
    result: Mapping[str, Any], null: Mapping[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """Every predictor's observed figures (all people, and ``:men``) with its permutation p
    values and the null's mean and 95th percentile of the exact rate."""
    figures: dict[str, Any] = {}
    for group in ("all", "men"):
        for name, observed in result[group].items():
            key = name if group == "all" else f"{name}:men"
            exact = [n["exact"] for n in null.get(key, [])]
            figures[key] = observed.as_dict() | {
                "p_exact": round(p_value(observed.exact, exact), 4),
                "p_r": round(p_value(observed.r, [n["r"] for n in null.get(key, [])]), 4)
                if observed.r is not None
                else None,
                "null_exact_mean": round(float(np.mean(exact)), 4) if exact else None,
                "null_exact_p95": round(float(np.percentile(exact, 95)), 4) if exact else None,
            }
    return figures


def iter_progress(total: int, desc: str) -> tqdm:
    return tqdm(total=total, desc=desc, unit="shuffle", leave=False)
