"""The ridge that fits stability in, and its person-grouped CV on many targets at once.

On features standardised on the training photos (``Z``), the generalised ridge is

    w = argmin ||y - Z w||^2 + a ||w||^2 + b w' S w,

``S`` the within-photo covariance of the standardised features across each training photo's
variants (each photo's variant features minus their mean, over the training photos only). With
``b = kappa * a`` it is ordinary ridge (strength ``a``) on ``Z T``, ``T = (I + kappa S)^(-1/2)``,
and ``w = T w~``: what varies under the variants costs more the larger ``kappa``.
:class:`Penalty` also gives the alternative that removes the top ``project`` eigenvectors of
``S`` (``T`` a projection) instead. Either way the model stays linear: the artefact stores
``mean``, ``scale``, ``coef`` and ``intercept`` as before.

The fits are sklearn's (``StandardScaler`` + ``Ridge(solver="svd")``) in closed form: one SVD of
``Z T`` per training set gives the predictions of every strength (:data:`.train.ALPHAS`) for
every target column at once, so the permutation null's shuffles (columns) cost one CV. The
folds are :func:`.train.person_folds`' draws in :func:`.train.out_of_fold`'s order (outer split
per repeat, then one inner split per outer training set), so with ``kappa = 0`` the figures are
:func:`.train.out_of_fold`'s (a test holds them equal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from model_server.training.face_type.train import ALPHAS, INNER_FOLDS, Protocol, person_folds


@dataclass(frozen=True)
class Penalty:
    """What the fit penalises beyond the ridge: ``kappa`` (b / a) times ``S``, or (``project``
    > 0) the top ``project`` nuisance directions removed."""

    kappa: float = 0.0
    project: int = 0
    alpha: float | None = None  # the ridge strength a; None: picked by inner person-grouped CV

    @property
    def name(self) -> str:
        a = "a by CV" if self.alpha is None else f"a {self.alpha:g}"
        if self.project:
            return f"{a}, top {self.project} of S projected out"
        if self.alpha is None:
            return f"{a}, b {self.kappa:g}a" if self.kappa else f"{a}, b 0"
        return f"{a}, b {self.kappa * self.alpha:g}"

    def transform(self, nuisance: np.ndarray | None) -> np.ndarray | None:
        """``T`` for the nuisance covariance ``S`` (None: the identity)."""
        if nuisance is None or (self.kappa == 0 and self.project == 0):
            return None
        values, vectors = np.linalg.eigh(nuisance)
        if self.project:
            top = vectors[:, np.argsort(values)[::-1][: self.project]]
            return np.eye(len(values)) - top @ top.T
        scale = 1 / np.sqrt(1 + self.kappa * np.clip(values, 0, None))
        return (vectors * scale) @ vectors.T


@dataclass(frozen=True)
class Region:
    """One region's photos: ``x`` (photos, p) as served, and the fitting variants ``variants``
    (photos, variants, p; None for a plain ridge) with ``found`` (photos, variants)."""

    x: np.ndarray
    variants: np.ndarray | None = None
    found: np.ndarray | None = None


def nuisance_covariance(
    region: Region, rows: np.ndarray, mean: np.ndarray, scale: np.ndarray
) -> np.ndarray | None:
    """``S`` of the ``rows`` photos in standardised units: the mean outer product of each
    variant's features minus the photo's mean over its variants (faces lost are left out)."""
    if region.variants is None or region.found is None:
        return None
    variants, found = region.variants[rows], region.found[rows]
    weights = found[..., None].astype(float)
    kept = np.where(found[..., None], variants, 0.0)
    centre = kept.sum(axis=1) / np.maximum(weights.sum(axis=1), 1)
    deviations = ((variants - centre[:, None]) / scale)[found]
    return deviations.T @ deviations / max(1, len(deviations))


@dataclass(frozen=True)
class Solved:
    """A training set's standardisation, transform and SVD: every strength's fit from it."""

    mean: np.ndarray
    scale: np.ndarray
    transform: np.ndarray | None
    u: np.ndarray
    d: np.ndarray
    vt: np.ndarray
    y_mean: np.ndarray  # (m,)
    uty: np.ndarray  # (rank, m): U' (y - mean)

    @classmethod
    def fit(cls, region: Region, rows: np.ndarray, y: np.ndarray, penalty: Penalty) -> Solved:
        x = region.x[rows]
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale == 0] = 1.0
        z = (x - mean) / scale
        transform = penalty.transform(
            nuisance_covariance(region, rows, mean, scale) if penalty != Penalty() else None
        )
        if transform is not None:
            z = z @ transform
        z -= z.mean(axis=0)  # sklearn's Ridge centres what it is given
        u, d, vt = np.linalg.svd(z, full_matrices=False)
        keep = d > 1e-15
        y_mean = y.mean(axis=0)
        u, d, vt = u[:, keep], d[keep], vt[keep]
        return cls(mean, scale, transform, u, d, vt, y_mean, u.T @ (y - y_mean))

    def coefs(self, alphas: np.ndarray) -> np.ndarray:
        """(p, m) coefficients on the standardised features, column j fitted with ``alphas[j]``."""
        factor = (self.d[:, None] / (self.d[:, None] ** 2 + alphas[None, :])) * self.uty
        coef = self.vt.T @ factor
        return coef if self.transform is None else self.transform @ coef

    def predict(self, x: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """(..., m) predictions of features ``x`` (..., p)."""
        return ((x - self.mean) / self.scale) @ coef + self.y_mean


@dataclass(frozen=True)
class FoldPlan:
    """One outer fold: its training and test rows, and the inner folds over its training rows."""

    train: np.ndarray
    test: np.ndarray
    inner: list[tuple[np.ndarray, np.ndarray]]


def fold_plan(people: np.ndarray, protocol: Protocol) -> list[FoldPlan]:
    """Every outer fold of every repeat, drawn in :func:`.train.out_of_fold`'s order."""
    rng = np.random.RandomState(protocol.seed)
    plan = []
    for _ in range(protocol.repeats):
        for train, test in person_folds(people, protocol.folds, rng):
            inner = person_folds(people[train], INNER_FOLDS, rng)
            plan.append(FoldPlan(train, test, inner))
    return plan


def pick_alphas(
    region: Region, rows: np.ndarray, y: np.ndarray, inner: Sequence, penalty: Penalty
) -> np.ndarray:
    """Per target column, the strength with the lowest inner person-grouped CV error."""
    grid = np.array(ALPHAS)
    errors = np.zeros((len(grid), y.shape[1]))
    for fit_rows, test_rows in inner:
        solved = Solved.fit(region, rows[fit_rows], y[fit_rows], penalty)
        x = region.x[rows[test_rows]]
        for k, alpha in enumerate(grid):
            predicted = solved.predict(x, solved.coefs(np.full(y.shape[1], alpha)))
            errors[k] += ((predicted - y[test_rows]) ** 2).sum(axis=0)
    return grid[np.argmin(errors, axis=0)]


def fit(
    region: Region, rows: np.ndarray, y: np.ndarray, inner: Sequence, penalty: Penalty
) -> tuple[Solved, np.ndarray]:
    """The fit of ``rows`` (targets ``y``: (rows, m)), each column's strength picked by the
    ``inner`` person-grouped folds; (solved, its (p, m) coefficients)."""
    if penalty.alpha is None:
        alphas = pick_alphas(region, rows, y, inner, penalty)
    else:
        alphas = np.full(y.shape[1], penalty.alpha)
    solved = Solved.fit(region, rows, y, penalty)
    return solved, solved.coefs(alphas)


@dataclass(frozen=True)
class OutOfFold:
    """Out-of-fold predictions averaged over the repeats: ``photos`` (n, m) for the target
    columns; ``extra`` (name -> (k, ...)) of the first column, for the sets' rows."""

    photos: np.ndarray
    extra: dict[str, np.ndarray]


def out_of_fold(
    region: Region,
    y: np.ndarray,
    plan: Sequence[FoldPlan],
    penalty: Penalty,
    extra: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    people: np.ndarray | None = None,
) -> OutOfFold:
    """Each photo predicted by the fits that never saw its person, for every target column of
    ``y`` (n, m); ``extra`` (name -> (the rows' people, features (k, ..., p))) predicted by the
    first column's fit of the fold that holds each row's person out."""
    extra = extra or {}
    total, counts = np.zeros(y.shape), np.zeros(len(y))
    sums = {name: np.zeros(x.shape[:-1]) for name, (_, x) in extra.items()}
    seen = {name: np.zeros(len(owners)) for name, (owners, _) in extra.items()}
    for fold in plan:
        solved, coef = fit(region, fold.train, y[fold.train], fold.inner, penalty)
        total[fold.test] += solved.predict(region.x[fold.test], coef)
        counts[fold.test] += 1
        held_out = set(people[fold.test].tolist()) if people is not None else set()
        for name, (owners, x) in extra.items():
            rows = np.isin(owners, list(held_out))
            sums[name][rows] += solved.predict(x[rows], coef[:, :1])[..., 0]
            seen[name][rows] += 1
    extras = {
        name: sums[name] / np.maximum(seen[name], 1).reshape(-1, *([1] * (sums[name].ndim - 1)))
        for name in extra
    }
    return OutOfFold(total / counts[:, None], extras)


def fit_everyone(
    regions: Sequence[Region], y: np.ndarray, people: np.ndarray, seed: int, penalty: Penalty
) -> list[tuple[dict[str, list[float] | float], float]]:
    """Each region's served fit on every photo (its strength picked by an inner person-grouped
    CV, drawn as :func:`.train.train_type_model` draws), as the artefact stores it
    (``((x - mean) / scale) . coef + intercept``), with the strength picked."""
    rng = np.random.RandomState(seed)
    rows = np.arange(len(y))
    fitted = []
    for region in regions:
        inner = person_folds(people, INNER_FOLDS, rng)
        if penalty.alpha is None:
            alpha = pick_alphas(region, rows, y[:, None], inner, penalty)
        else:
            alpha = np.array([penalty.alpha])
        solved = Solved.fit(region, rows, y[:, None], penalty)
        coef = solved.coefs(alpha)[:, 0]
        stored = {
            "mean": np.round(solved.mean, 6).tolist(),
            "scale": np.round(solved.scale, 6).tolist(),
            "coef": np.round(coef, 6).tolist(),
            "intercept": round(float(solved.y_mean[0]), 6),
        }
        fitted.append((stored, float(alpha[0])))
    return fitted
