"""The served type model: a ridge regression per region on dlib embeddings, read from JSON.

Each region's regression predicts the raters' mean rating (z-scored within sex) from the
region's 128-d embedding. The value is cut into a type by the region's cut points (the seed's
quota shares over out-of-fold predictions), and turned into calibrated probabilities of the
five types: the true rating given the value is modelled as normal (``slope * value +
intercept``, ``sigma``, fitted on out-of-fold predictions), and each type is the rating's
interval between the training ratings' quota cuts. The served type is the ``combination``:
the seed's vote (each region's type gives points, the sum's bounds give the type), the face
alone, or the regions' average. Pure numpy: the handler and the training share it.

Several photos of one person (:meth:`TypeModel.predict_photos`): each region's value is the
mean of the photos' values (for these linear models, the value of the photos' mean features),
and that combined value is typed as one photo's is.

How sure (:meth:`TypeModel.margin`): ``noise[n][region]`` (the artefact's) is the measured RMS
change of a region's value when the photos (``n`` of them) are changed by the hard variants.
The margin is the smallest joint move of the regions' values, in those units, that changes the
served type: the Euclidean distance, in noise units (each region's move divided by its noise),
from the values to the nearest combination of region types that the rule turns into another
type (for the average, to its nearest cut, in the average's noise). Under independent normal
noise of those sizes, a margin of m is crossed by a variant with probability about
Phi(-m). ``near`` is the type across that nearest bound when the margin is under the artefact's
``near_threshold`` (chosen so that answers at or above it keep their type under the variants).
Identity (:func:`identity_distances`): the Euclidean distance of each photo's raw dlib
descriptor to the first photo's, dlib's own convention; the artefact's ``identity.threshold`` is
the largest distance measured as one person.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.parameters import SCORE_BOUNDS, SCORE_POINTS
from core.schemas import RegionType, Strength
from core.taxonomy import PARTS, TYPES
from model_server.runtime.scoring import part_points, type_for_score

COMBINATIONS = ("seed_vote", "face", "average")
CLEAR, LIKELY = 0.5, 0.35  # probability of the region's type: clear / likely / borderline


def type_index(value: float, cuts: Sequence[float]) -> int:
    """0 (alpha) .. 4 (omega): how many of the descending ``cuts`` the value does not exceed."""
    return sum(value <= cut for cut in cuts)


def strength(probability: float) -> Strength:
    return "clear" if probability >= CLEAR else "likely" if probability >= LIKELY else "borderline"


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


@dataclass(frozen=True)
class Calibration:
    """True rating | predicted value ~ Normal(slope * value + intercept, sigma)."""

    slope: float
    intercept: float
    sigma: float

    def probabilities(self, value: float, rating_cuts: Sequence[float]) -> list[float]:
        """P(type) alpha..omega: the normal's mass between consecutive (descending) cuts."""
        mu = self.slope * value + self.intercept
        edges = [math.inf, *rating_cuts, -math.inf]
        return [
            _phi((hi - mu) / self.sigma) - _phi((lo - mu) / self.sigma)
            for hi, lo in itertools.pairwise(edges)
        ]


@dataclass(frozen=True)
class Predictor:
    """One ridge regression, its type cuts and its calibration."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    cuts: tuple[float, ...]
    calibration: Calibration

    def value(self, x: np.ndarray) -> float:
        return float(((x - self.mean) / self.scale) @ self.coef + self.intercept)


@dataclass(frozen=True)
class TypePrediction:
    type: str
    score: int
    regions: dict[str, RegionType]
    photos: int = 1
    margin: float = math.inf  # in noise units (see the module docstring)
    near: str | None = None  # the type across the nearest bound, when the margin is small


@dataclass(frozen=True)
class TypedPhotos:
    """A request's prediction, its photos' descriptor distances and the person's descriptor."""

    prediction: TypePrediction
    distances: list[float]
    descriptor: np.ndarray


def _gaps(value: float, cuts: Sequence[float]) -> np.ndarray:
    """How far ``value`` must move to fall in each type's interval (0 in its own), alpha..omega."""
    edges = [math.inf, *cuts, -math.inf]
    return np.array(
        [max(0.0, value - hi, lo - value) for hi, lo in itertools.pairwise(edges)], dtype=float
    )


class TypeModel:
    """``predict(embeddings)``: each region's type, probability and points; the served type;
    ``predict_photos`` of several photos; how far the answer sits from the nearest bound."""

    def __init__(
        self,
        artefact: Mapping[str, Any],
        *,
        combination: str | None = None,
        points: Mapping[str, Sequence[int]] = SCORE_POINTS,
        bounds: Sequence[tuple[float, str]] = SCORE_BOUNDS,
    ) -> None:
        self.combination = combination or artefact["served"]
        if self.combination not in COMBINATIONS:
            raise ValueError(f"combination must be one of {COMBINATIONS}, not {self.combination!r}")
        self.points, self.bounds = points, bounds
        self.rating_cuts = tuple(artefact["rating_cuts"])
        self.regions = {
            part: Predictor(
                mean=np.asarray(model["mean"]),
                scale=np.asarray(model["scale"]),
                coef=np.asarray(model["coef"]),
                intercept=float(model["intercept"]),
                cuts=tuple(artefact["cut_points"][part]),
                calibration=Calibration(**artefact["calibration"][part]),
            )
            for part, model in artefact["regions"].items()
        }
        self.average_cuts = tuple(artefact["cut_points"]["average"])
        # photos -> region (or "average") -> RMS change of the value under the variants
        self.noise = {
            int(n): {name: float(v) for name, v in per.items()}
            for n, per in artefact.get("noise", {}).items()
        }
        self.near_threshold = float(artefact.get("near_threshold", 0.0))
        self.identity_threshold = float(artefact.get("identity", {}).get("threshold", math.inf))
        # every combination of region types (alpha..omega each); the rule's type of each
        self._combos = np.array(list(itertools.product(range(len(TYPES)), repeat=len(PARTS))))
        self._shape = (len(TYPES),) * len(PARTS)

    @property
    def points(self) -> Mapping[str, Sequence[int]]:
        return self._points

    @points.setter
    def points(self, points: Mapping[str, Sequence[int]]) -> None:
        self._points, self._rule_types = points, None

    @property
    def bounds(self) -> Sequence[tuple[float, str]]:
        return self._bounds

    @bounds.setter
    def bounds(self, bounds: Sequence[tuple[float, str]]) -> None:
        self._bounds, self._rule_types = bounds, None

    @property
    def combo_types(self) -> np.ndarray:
        """The served type (index) of every combination of region types, under the rule."""
        if self._rule_types is None:
            self._rule_types = np.array([self._rule_type(c) for c in self._combos])
        return self._rule_types

    def _rule_type(self, combo: Sequence[int]) -> int:
        types = {part: TYPES[t] for part, t in zip(PARTS, combo, strict=True)}
        if self.combination == "face":
            return int(combo[PARTS.index("face")])
        score = sum(part_points(types, self.points).values())
        return TYPES.index(type_for_score(score, self.bounds))  # type: ignore[arg-type]

    def values(self, embeddings: Mapping[str, np.ndarray]) -> dict[str, float]:
        """Each region's predicted value for its embedding."""
        return {part: self.regions[part].value(embeddings[part]) for part in PARTS}

    def predict(self, embeddings: Mapping[str, np.ndarray]) -> TypePrediction:
        """The prediction for the three regions' embeddings."""
        return self.decide(self.values(embeddings))

    def predict_photos(self, photos: Sequence[Mapping[str, np.ndarray]]) -> TypePrediction:
        """The prediction for several photos of one person: each region's mean value."""
        if not photos:
            raise ValueError("no photos")
        values = [self.values(embeddings) for embeddings in photos]
        combined = {part: float(np.mean([v[part] for v in values])) for part in PARTS}
        return self.decide(combined, photos=len(photos))

    def classify(
        self, values: Mapping[str, float], photos: int = 1
    ) -> tuple[str, float, str | None]:
        """(served type, margin in noise units, ``near``) of the regions' values: what
        :meth:`decide` serves, without the regions' detail."""
        served, margin, across = self._nearest_bound(values, photos)
        margin = round(margin, 3)  # as answered: ``near`` follows the margin the answer states
        near = TYPES[across] if margin < self.near_threshold else None
        return TYPES[served], margin, near

    def _nearest_bound(self, values: Mapping[str, float], photos: int) -> tuple[int, float, int]:
        """(served type, margin, the type across the nearest bound) as type indices."""
        noise = self.noise.get(photos) or self.noise.get(max(self.noise, default=1)) or {}
        if self.combination == "average":
            mean = float(np.mean([values[part] for part in PARTS]))
            served = type_index(mean, self.average_cuts)
            gaps = _gaps(mean, self.average_cuts) / noise.get("average", 1.0)
            gaps[served] = math.inf
            return served, float(gaps.min()), int(np.argmin(gaps))
        squared = [
            (_gaps(values[part], self.regions[part].cuts) / noise.get(part, 1.0)) ** 2
            for part in PARTS
        ]
        distance = np.sqrt(sum(g[self._combos[:, k]] for k, g in enumerate(squared)))
        own = [type_index(values[part], self.regions[part].cuts) for part in PARTS]
        served = int(self.combo_types[int(np.ravel_multi_index(own, self._shape))])
        distance[self.combo_types == served] = math.inf
        nearest = int(np.argmin(distance))
        return served, float(distance[nearest]), int(self.combo_types[nearest])

    def decide(self, values: Mapping[str, float], photos: int = 1) -> TypePrediction:
        """Types, probabilities, points and the served type from the regions' predicted values;
        its margin and neighbour for a prediction from ``photos`` photos."""
        types = {part: TYPES[type_index(values[part], self.regions[part].cuts)] for part in PARTS}
        points = part_points(types, self.points)
        regions = {}
        for part in PARTS:
            probs = self.regions[part].calibration.probabilities(values[part], self.rating_cuts)
            mine = probs[TYPES.index(types[part])]
            regions[part] = RegionType(
                type=types[part],  # type: ignore[arg-type]
                value=round(values[part], 4),
                probability=round(mine, 4),
                probabilities={t: round(p, 4) for t, p in zip(TYPES, probs, strict=True)},  # type: ignore[misc]
                strength=strength(mine),
                points=points[part],
            )
        served, margin, near = self.classify(values, photos)
        return TypePrediction(served, sum(points.values()), regions, photos, margin, near)


def identity_distances(descriptors: Sequence[np.ndarray]) -> list[float]:
    """Each descriptor's Euclidean distance to the first's (raw 128-d dlib descriptors)."""
    first = np.asarray(descriptors[0], dtype=float)
    return [float(np.linalg.norm(np.asarray(d, dtype=float) - first)) for d in descriptors]


def person_descriptor(descriptors: Sequence[np.ndarray]) -> np.ndarray:
    """The photos' mean raw descriptor, scaled to unit L2 norm."""
    mean = np.mean(np.asarray(descriptors, dtype=float), axis=0)
    return mean / (np.linalg.norm(mean) or 1.0)
