"""The served type model: a ridge regression per region on dlib embeddings, read from JSON.

Each region's regression predicts the raters' mean rating (z-scored within sex) from the
region's 128-d embedding. The value is cut into a type by the region's cut points (the seed's
quota shares over out-of-fold predictions), and turned into calibrated probabilities of the
five types: the true rating given the value is modelled as normal (``slope * value +
intercept``, ``sigma``, fitted on out-of-fold predictions), and each type is the rating's
interval between the training ratings' quota cuts. The served type is the ``combination``:
the seed's vote (each region's type gives points, the sum's bounds give the type), the face
alone, or the regions' average. Pure numpy: the handler and the training share it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.contract import SCORE_BOUNDS, SCORE_POINTS
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


class TypeModel:
    """``predict(embeddings)``: each region's type, probability and points; the served type."""

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

    def predict(self, embeddings: Mapping[str, np.ndarray]) -> TypePrediction:
        """The prediction for the three regions' embeddings."""
        return self.decide({part: self.regions[part].value(embeddings[part]) for part in PARTS})

    def decide(self, values: Mapping[str, float]) -> TypePrediction:
        """Types, probabilities, points and the served type from the regions' predicted values."""
        types = {part: TYPES[type_index(values[part], self.regions[part].cuts)] for part in PARTS}
        points = part_points(types, self.points)
        score = sum(points.values())
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
        if self.combination == "seed_vote":
            served = type_for_score(score, self.bounds)
        elif self.combination == "face":
            served = types["face"]
        else:
            served = TYPES[type_index(float(np.mean(list(values.values()))), self.average_cuts)]
        return TypePrediction(served, score, regions)
