"""The seed's weighted score and the rules that decide each face part: pure functions.

A part is decided from the detector's boxes of its five type classes:
- ``summed`` (default): the best box of the part anchors it; the scores of the part's classes over
  every box overlapping the anchor (IoU >= ``iou_threshold``) are summed per type; the part is
  found when the total reaches ``threshold`` and its type is the argmax.
- ``single`` (the seed's rule): found only when one class alone scores ``threshold`` or more.
The two agree whenever one type dominates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from core.schemas import Region
from core.taxonomy import PARTS, TYPES
from model_server.runtime.labels import decode_label

Rule = Literal["summed", "single"]
Box = tuple[float, float, float, float]

# Points a part votes for its type, alpha..omega (the seed's table).
DEFAULT_POINTS: dict[str, tuple[int, ...]] = {
    "face": (50, 40, 30, 20, 10),
    "t_zone": (40, 32, 24, 16, 8),
    "jaw": (10, 8, 6, 4, 2),
}
# A score strictly above the bound gives the type; checked top-down.
DEFAULT_BOUNDS: tuple[tuple[int, str], ...] = (
    (85, "alpha"),
    (68, "beta"),
    (48, "gamma"),
    (20, "delta"),
    (0, "omega"),
)


@dataclass(frozen=True)
class Detection:
    """One detector output: box (x1, y1, x2, y2), foreground label, score."""

    box: Box
    label: int
    score: float


@dataclass
class PartDecision:
    """What the rule decided for one part."""

    part: str
    found: bool
    type: str | None
    box: Box | None
    confidence: float  # share of the part's mass on its type (0 when nothing was detected)
    presence: float  # summed score mass around the anchor box (single rule: the top class score)
    distribution: dict[str, float] = field(default_factory=dict)  # normalised per type

    def as_region(self) -> Region:
        """The contract's region (shares rounded to 4 places)."""
        return Region(
            found=self.found,
            type=self.type,  # type: ignore[arg-type]
            box=self.box,
            confidence=round(self.confidence, 4),
            presence=round(self.presence, 4),
            distribution={k: round(v, 4) for k, v in self.distribution.items()},  # type: ignore[misc]
        )


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def decide_part(
    part_index: int,
    detections: Iterable[Detection],
    *,
    rule: Rule = "summed",
    threshold: float = 0.75,
    iou_threshold: float = 0.5,
) -> PartDecision:
    """Decide one part from all detections (others parts' boxes are ignored)."""
    mine = [
        (d, decode_label(d.label)[0]) for d in detections if decode_label(d.label)[1] == part_index
    ]
    part = PARTS[part_index]
    if not mine:
        return PartDecision(part, False, None, None, 0.0, 0.0)
    anchor, anchor_type = max(mine, key=lambda dt: dt[0].score)
    mass = dict.fromkeys(TYPES, 0.0)
    for det, type_index in mine:
        if iou(det.box, anchor.box) >= iou_threshold:
            mass[TYPES[type_index]] += det.score
    total = sum(mass.values())
    distribution = {t: m / total for t, m in mass.items()}
    if rule == "single":
        found, chosen, presence = anchor.score >= threshold, TYPES[anchor_type], anchor.score
    elif rule == "summed":
        chosen = max(TYPES, key=lambda t: mass[t])
        found, presence = total >= threshold, total
    else:
        raise ValueError(f"unknown rule {rule!r}")
    return PartDecision(
        part=part,
        found=found,
        type=chosen if found else None,
        box=anchor.box if found else None,
        confidence=distribution[chosen] if found else 0.0,
        presence=presence,
        distribution=distribution,
    )


def decide_parts(detections: Sequence[Detection], **options: object) -> dict[str, PartDecision]:
    """Decide every part; ``options`` are :func:`decide_part`'s keyword arguments."""
    return {part: decide_part(i, detections, **options) for i, part in enumerate(PARTS)}  # type: ignore[arg-type]


def weighted_score(
    part_types: Mapping[str, str], points: Mapping[str, Sequence[int]] = DEFAULT_POINTS
) -> int:
    """Sum of each part's points for its type (all three parts required)."""
    missing = [p for p in PARTS if p not in part_types]
    if missing:
        raise ValueError(f"parts missing: {missing}")
    return sum(points[p][TYPES.index(part_types[p])] for p in PARTS)


def type_for_score(score: float, bounds: Sequence[tuple[float, str]] = DEFAULT_BOUNDS) -> str:
    """The first type whose bound the score exceeds (strictly)."""
    for bound, type_name in bounds:
        if score > bound:
            return type_name
    raise ValueError(f"score {score} is below every bound")


def classify(
    decisions: Mapping[str, PartDecision],
    points: Mapping[str, Sequence[int]] = DEFAULT_POINTS,
    bounds: Sequence[tuple[float, str]] = DEFAULT_BOUNDS,
) -> tuple[str, int | None]:
    """(outcome, score): a type name, or ``regions_incomplete`` when a part is missing."""
    if not all(decisions[p].found for p in PARTS):
        return "regions_incomplete", None
    score = weighted_score({p: decisions[p].type for p in PARTS}, points)  # type: ignore[misc]
    return type_for_score(score, bounds), score
