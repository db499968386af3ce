"""The type model: ridge regressions on dlib face embeddings, evaluated by person-grouped CV.

``python -m model_server.training type-model`` (``make train``):

1. Features: for every London photo, the 128-d embeddings of the aligned face chip, of its
   T-zone and of its jaw (:mod:`model_server.runtime.embedding`), cached under ``var/``.
2. Target: each person's mean rating, z-scored within sex (both photos of a person share it).
3. Protocol: outer ``folds``-fold CV split by person (both photos in one fold), repeated
   ``repeats`` times; ridge strength picked by an inner person-grouped CV on each outer training
   set only. A person's out-of-fold score is the mean over their photos and the repeats.
4. Types: the out-of-fold scores cut by the seed's quota shares within sex; reported as exact
   type and within one type, against the majority baseline.
5. Null: the same protocol on targets shuffled between people of the same sex, ``shuffles``
   times; p = (1 + shuffles at least as good) / (1 + shuffles).
6. Combinations on the same CV: the face alone, the plain average of the three regions' scores,
   and the seed's weighted vote (each region's type -> its points -> the score's bounds).

Writes ``type_model.json`` (scalers, coefficients, cut points, metadata; well under 1 MB), a
metrics JSON and two plots (predicted vs rated, the null distribution).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from core.contract import SCORE_BOUNDS, SCORE_POINTS
from core.taxonomy import PARTS, TYPES
from model_server.runtime.scoring import type_for_score
from model_server.training import labels as lb

ALPHAS = tuple(float(a) for a in np.logspace(-1, 4, 11))


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


# --- ridge --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ridge:
    """Standardised ridge regression: y = ((x - mean) / scale) . coef + intercept."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def as_dict(self) -> dict[str, Any]:
        return {
            "mean": np.round(self.mean, 6).tolist(),
            "scale": np.round(self.scale, 6).tolist(),
            "coef": np.round(self.coef, 6).tolist(),
            "intercept": round(self.intercept, 6),
        }


def ridge_path(x: np.ndarray, y: np.ndarray, alphas: Sequence[float]) -> list[Ridge]:
    """One ridge fit per strength, from a single SVD of the standardised features."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    intercept = float(y.mean())
    u, s, vt = np.linalg.svd(z, full_matrices=False)
    uty = u.T @ (y - intercept)
    return [Ridge(mean, scale, vt.T @ (s / (s**2 + a) * uty), intercept) for a in alphas]


def person_folds(people: np.ndarray, folds: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Row indices of each test fold; every person's photos fall in one fold."""
    persons = rng.permutation(np.unique(people))
    return [np.flatnonzero(np.isin(people, part)) for part in np.array_split(persons, folds)]


def pick_alpha(
    x: np.ndarray, y: np.ndarray, people: np.ndarray, rng: np.random.Generator, folds: int = 5
) -> float:
    """The strength with the lowest person-grouped CV error on this (training) set."""
    errors = np.zeros(len(ALPHAS))
    for test in person_folds(people, folds, rng):
        train = np.setdiff1d(np.arange(len(y)), test)
        for i, model in enumerate(ridge_path(x[train], y[train], ALPHAS)):
            errors[i] += float(np.sum((model.predict(x[test]) - y[test]) ** 2))
    return ALPHAS[int(np.argmin(errors))]


def fit(x: np.ndarray, y: np.ndarray, people: np.ndarray, rng: np.random.Generator) -> Ridge:
    """Ridge with its strength picked by inner person-grouped CV."""
    alpha = pick_alpha(x, y, people, rng)
    return ridge_path(x, y, [alpha])[0]


def out_of_fold(
    x: np.ndarray, y: np.ndarray, people: np.ndarray, folds: int, repeats: int, seed: int
) -> np.ndarray:
    """Each photo's prediction by models that never saw its person, averaged over repeats."""
    rng = np.random.default_rng(seed)
    total = np.zeros(len(y))
    for _ in range(repeats):
        for test in person_folds(people, folds, rng):
            train = np.setdiff1d(np.arange(len(y)), test)
            total[test] += fit(x[train], y[train], people[train], rng).predict(x[test])
    return total / repeats


# --- from photo predictions to people and types ---------------------------------------------
def by_person(values: np.ndarray, people: np.ndarray) -> dict[str, float]:
    return {p: float(values[people == p].mean()) for p in np.unique(people)}


def types_by_quota(scores: Mapping[str, float], sexes: Mapping[str, str]) -> dict[str, int]:
    """Type index per person: scores ranked within sex and cut by the seed's quota shares."""
    out: dict[str, int] = {}
    for sex in sorted(set(sexes.values())):
        out |= lb.assign_types({p: s for p, s in scores.items() if sexes[p] == sex})
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


@dataclass(frozen=True)
class Protocol:
    folds: int = 10
    repeats: int = 10
    seed: int = 0


def evaluate_all(
    faces: Faces, protocol: Protocol, target: np.ndarray | None = None
) -> dict[str, Any]:
    """Out-of-fold person scores and types of every predictor and combination."""
    y = faces.target if target is None else target
    sexes = dict(zip(faces.people.tolist(), faces.sexes.tolist(), strict=True))
    rated = by_person(y, faces.people)
    true_types = types_by_quota(rated, sexes)
    photo_scores = {
        region: out_of_fold(
            faces.features[region], y, faces.people, protocol.folds, protocol.repeats, protocol.seed
        )
        for region in PARTS
    }
    scores = {region: by_person(photo_scores[region], faces.people) for region in PARTS}
    region_types = {region: types_by_quota(s, sexes) for region, s in scores.items()}
    average = {p: float(np.mean([scores[r][p] for r in PARTS])) for p in rated}
    predictors: dict[str, tuple[Mapping[str, float] | None, Mapping[str, int]]] = {
        **{region: (scores[region], region_types[region]) for region in PARTS},
        "average": (average, types_by_quota(average, sexes)),
        "seed_vote": (None, seed_vote(region_types)),
    }
    men = sorted(p for p, s in sexes.items() if s == "male")
    return {
        "photo_scores": photo_scores,
        "rated": rated,
        "true_types": true_types,
        "scores": scores | {"average": average},
        "types": {name: t for name, (_, t) in predictors.items()},
        "all": {name: score(s, t, rated, true_types) for name, (s, t) in predictors.items()},
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


def cut_points(scores: Mapping[str, float]) -> list[float]:
    """Score thresholds between the types (alpha first) that give the seed's quota shares."""
    ranked = sorted(scores.values(), reverse=True)
    counts = lb.quota_counts(len(ranked))
    edges, position = [], 0
    for count in counts[:-1]:
        position += count
        edges.append(round((ranked[position - 1] + ranked[position]) / 2, 6))
    return edges


def calibrate(predicted: np.ndarray, rated: np.ndarray) -> dict[str, float]:
    """Rated ~ Normal(slope * predicted + intercept, sigma), fitted on out-of-fold predictions."""
    slope, intercept = np.polyfit(predicted, rated, 1)
    sigma = float(np.std(rated - (slope * predicted + intercept), ddof=2))
    return {
        "slope": round(float(slope), 6),
        "intercept": round(float(intercept), 6),
        "sigma": round(sigma, 6),
    }


def train_type_model(faces: Faces, protocol: Protocol) -> dict[str, Any]:
    """The served models: one ridge per region, fitted on every person (its strength picked by
    person-grouped CV); the command adds the cut points and the metadata."""
    rng = np.random.default_rng(protocol.seed)
    models = {
        region: fit(faces.features[region], faces.target, faces.people, rng) for region in PARTS
    }
    return {"regions": {r: m.as_dict() for r, m in models.items()}}


def iter_progress(total: int, desc: str) -> tqdm:
    return tqdm(total=total, desc=desc, unit="shuffle", leave=False)


def save_json(path: Path, body: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=1, default=float) + "\n")
