"""The type model's ridges: one per region on its 128-d embedding, the strength picked by
person-grouped CV, and what serving one photo at a time needs beside them.

- :func:`fit`: ridge regression on standardised features, its strength picked by an inner
  person-grouped CV on the set it is given (:func:`pick_alpha`).
- :func:`out_of_fold`: every photo predicted by models that never saw its person (outer
  ``folds``-fold CV split by person, repeated ``repeats`` times), for the evaluation.
- :func:`served_artefact`: the ridges fitted on everyone, with the cut points and calibrations
  from the out-of-fold photo predictions: ``type_model.json``, which
  :class:`model_server.runtime.type_model.TypeModel` serves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.taxonomy import PARTS
from model_server.training.face_type import ratings
from model_server.training.face_type.data import Faces

ALPHAS = tuple(float(a) for a in np.logspace(-1, 4, 11))


@dataclass(frozen=True)
class Protocol:
    """The person-grouped CV: outer folds, repeats, and the seed of its fold draws."""

    folds: int = 10
    repeats: int = 10
    seed: int = 0


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


def cut_points(scores: Mapping[str, float]) -> list[float]:
    """Score thresholds between the types (alpha first) that give the seed's quota shares."""
    ranked = sorted(scores.values(), reverse=True)
    counts = ratings.quota_counts(len(ranked))
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
    person-grouped CV); :func:`served_artefact` adds the cut points and the calibrations."""
    rng = np.random.default_rng(protocol.seed)
    models = {
        region: fit(faces.features[region], faces.target, faces.people, rng) for region in PARTS
    }
    return {"regions": {r: m.as_dict() for r, m in models.items()}}


def served_artefact(
    faces: Faces,
    protocol: Protocol,
    rated: Mapping[str, float],
    photo: Mapping[str, np.ndarray],
    served: str,
) -> dict[str, Any]:
    """The ridges fitted on everyone, with what serving one photo at a time needs: cut points
    and calibration from the out-of-fold photo predictions (``photo``: region or combination ->
    one value a photo), the types' bounds on the true rating from the people's ratings (seed
    quotas)."""
    return train_type_model(faces, protocol) | {
        "cut_points": {n: cut_points(dict(enumerate(v))) for n, v in photo.items()},
        "calibration": {n: calibrate(v, faces.target) for n, v in photo.items()},
        "rating_cuts": cut_points(rated),
        "served": served,
    }
