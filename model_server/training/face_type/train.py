"""The type model's ridges: one per region on its 128-d embedding, the strength picked by
person-grouped CV, and what serving one photo at a time needs beside them.

scikit-learn does the statistics: :func:`ridge` is ``StandardScaler`` + ``Ridge`` (sklearn's
SVD solver), folds are ``GroupKFold`` over people (shuffled, seeded: one ``RandomState`` per
run, drawn in order), so both photos of a person always fall in the same fold.

- :func:`fit`: a ridge, its strength picked by an inner person-grouped CV on the set it is given
  (:func:`pick_alpha`).
- :func:`out_of_fold`: every photo predicted by models that never saw its person (outer
  ``folds``-fold CV split by person, repeated ``repeats`` times), for the evaluation.
- :func:`served_artefact`: the ridges fitted on everyone, with the cut points and calibrations
  from the out-of-fold photo predictions: ``type_model.json``, which
  :class:`model_server.runtime.type_model.TypeModel` serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sklearn
from sklearn.linear_model import Ridge
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from core.taxonomy import PARTS
from model_server.training.face_type import ratings
from model_server.training.face_type.data import Faces

ALPHAS = tuple(float(a) for a in np.logspace(-1, 4, 11))
INNER_FOLDS = 5  # the strength's person-grouped CV, inside each training set


@dataclass(frozen=True)
class Protocol:
    """The person-grouped CV: outer folds, repeats, and the seed of its fold draws."""

    folds: int = 10
    repeats: int = 10
    seed: int = 0


Folds = list[tuple[np.ndarray, np.ndarray]]


def person_folds(people: np.ndarray, folds: int, rng: np.random.RandomState) -> Folds:
    """(train, test) row indices of each fold: ``GroupKFold`` over people, shuffled by ``rng``
    (each call draws the next permutation of the people); every person's photos fall in one
    fold."""
    splitter = GroupKFold(n_splits=folds, shuffle=True, random_state=rng)
    return list(splitter.split(np.zeros((len(people), 1)), groups=people))


def ridge(alpha: float | np.ndarray) -> Pipeline:
    """Ridge regression on standardised features (``alpha``: one strength per target)."""
    return make_pipeline(StandardScaler(), Ridge(alpha=alpha, solver="svd"))


def pick_alpha(
    x: np.ndarray,
    y: np.ndarray,
    people: np.ndarray,
    rng: np.random.RandomState,
    folds: int = INNER_FOLDS,
) -> float:
    """The strength with the lowest person-grouped CV error (squared errors summed over the
    held-out photos) on this (training) set.

    One ``Ridge`` per fold fits every strength at once, as ``len(ALPHAS)`` targets with one
    strength each (one SVD); ``RidgeCV`` with these folds would refit a grid search per
    strength: the same strengths, about five times slower."""
    errors = np.zeros(len(ALPHAS))
    for train, test in person_folds(people, folds, rng):
        path = ridge(np.array(ALPHAS)).fit(x[train], np.tile(y[train, None], len(ALPHAS)))
        errors += ((path.predict(x[test]) - y[test, None]) ** 2).sum(axis=0)
    return ALPHAS[int(np.argmin(errors))]


def fit(x: np.ndarray, y: np.ndarray, people: np.ndarray, rng: np.random.RandomState) -> Pipeline:
    """A ridge with its strength picked by inner person-grouped CV."""
    return ridge(pick_alpha(x, y, people, rng)).fit(x, y)


def as_dict(model: Pipeline) -> dict[str, Any]:
    """A fitted :func:`ridge` as the artefact stores it: y = ((x - mean) / scale) . coef +
    intercept."""
    scaler, regression = model.named_steps["standardscaler"], model.named_steps["ridge"]
    return {
        "mean": np.round(scaler.mean_, 6).tolist(),
        "scale": np.round(scaler.scale_, 6).tolist(),
        "coef": np.round(regression.coef_, 6).tolist(),
        "intercept": round(float(regression.intercept_), 6),
    }


def out_of_fold(
    x: np.ndarray, y: np.ndarray, people: np.ndarray, folds: int, repeats: int, seed: int
) -> np.ndarray:
    """Each photo's prediction by models that never saw its person, averaged over repeats.

    scikit-learn's input checks are skipped here (the same figures, a quarter faster): the CV
    and its null fit 60,000 ridges on the same finite embeddings."""
    rng = np.random.RandomState(seed)
    total = np.zeros(len(y))
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        for _ in range(repeats):
            for train, test in person_folds(people, folds, rng):
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
    rng = np.random.RandomState(protocol.seed)
    models = {
        region: fit(faces.features[region], faces.target, faces.people, rng) for region in PARTS
    }
    return {"regions": {r: as_dict(m) for r, m in models.items()}}


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
