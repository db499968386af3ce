"""The seed's weighted score: each part's type gives points, the sum's bounds give the type.

Pure functions, used by the type model's handler and by its training (which compares this vote
with the face alone on the same cross-validation); the points and bounds are
:mod:`core.parameters`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.parameters import SCORE_BOUNDS, SCORE_POINTS
from core.taxonomy import PARTS, TYPES


def part_points(
    part_types: Mapping[str, str], points: Mapping[str, Sequence[int]] = SCORE_POINTS
) -> dict[str, int]:
    """Each part's points for its type (all three parts required)."""
    missing = [p for p in PARTS if p not in part_types]
    if missing:
        raise ValueError(f"parts missing: {missing}")
    return {p: int(points[p][TYPES.index(part_types[p])]) for p in PARTS}  # type: ignore[arg-type]


def weighted_score(
    part_types: Mapping[str, str], points: Mapping[str, Sequence[int]] = SCORE_POINTS
) -> int:
    """Sum of each part's points for its type."""
    return sum(part_points(part_types, points).values())


def type_for_score(score: float, bounds: Sequence[tuple[float, str]] = SCORE_BOUNDS) -> str:
    """The first type whose bound the score exceeds (strictly)."""
    for bound, type_name in bounds:
        if score > bound:
            return type_name
    raise ValueError(f"score {score} is below every bound")
