"""The seed's weighted score: each part's type gives points, the sum's bounds give the type.

Pure functions, used by the type model's handler and by its training (which compares this vote
with the face alone on the same cross-validation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.taxonomy import PARTS, TYPES

# Points a part votes for its type, alpha..omega (the seed's table).
DEFAULT_POINTS: dict[str, tuple[int, ...]] = {
    "face": (50, 40, 30, 20, 10),
    "t_zone": (40, 32, 24, 16, 8),
    "jaw": (10, 8, 6, 4, 2),
}
# A score strictly above the bound gives the type; checked top-down.
DEFAULT_BOUNDS: tuple[tuple[float, str], ...] = (
    (85, "alpha"),
    (68, "beta"),
    (48, "gamma"),
    (20, "delta"),
    (0, "omega"),
)


def part_points(
    part_types: Mapping[str, str], points: Mapping[str, Sequence[int]] = DEFAULT_POINTS
) -> dict[str, int]:
    """Each part's points for its type (all three parts required)."""
    missing = [p for p in PARTS if p not in part_types]
    if missing:
        raise ValueError(f"parts missing: {missing}")
    return {p: int(points[p][TYPES.index(part_types[p])]) for p in PARTS}  # type: ignore[arg-type]


def weighted_score(
    part_types: Mapping[str, str], points: Mapping[str, Sequence[int]] = DEFAULT_POINTS
) -> int:
    """Sum of each part's points for its type."""
    return sum(part_points(part_types, points).values())


def type_for_score(score: float, bounds: Sequence[tuple[float, str]] = DEFAULT_BOUNDS) -> str:
    """The first type whose bound the score exceeds (strictly)."""
    for bound, type_name in bounds:
        if score > bound:
            return type_name
    raise ValueError(f"score {score} is below every bound")


def parse_points(raw: Mapping[str, Sequence[int]] | None) -> dict[str, tuple[int, ...]]:
    """Points per part from yaml, validated: every part, one integer per type."""
    points = {**DEFAULT_POINTS, **(raw or {})}
    for part in PARTS:
        if len(points[part]) != len(TYPES):
            raise ValueError(f"points.{part} needs {len(TYPES)} values (alpha..omega)")
    return {part: tuple(int(v) for v in points[part]) for part in PARTS}


def parse_bounds(raw: Sequence[Sequence[object]] | None) -> tuple[tuple[float, str], ...]:
    """Score bounds from yaml (``[[85, alpha], ...]``), sorted top-down, types checked."""
    if not raw:
        return DEFAULT_BOUNDS
    bounds = tuple((float(bound), str(name)) for bound, name in raw)  # type: ignore[arg-type]
    unknown = [name for _, name in bounds if name not in TYPES]
    if unknown:
        raise ValueError(f"bounds name unknown types {unknown}")
    return tuple(sorted(bounds, reverse=True))
