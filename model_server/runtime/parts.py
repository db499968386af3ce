"""Which face parts the region detector found: pure functions over its detections.

A part is found when its best box scores ``threshold`` or more (the seed's rule); that box is
the part's box.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.parameters import PART_THRESHOLD
from core.schemas import Box, Region
from core.taxonomy import PARTS
from model_server.runtime.part_labels import decode_label


@dataclass(frozen=True)
class Detection:
    """One detector output: box (x1, y1, x2, y2), foreground label, score."""

    box: Box
    label: int
    score: float


@dataclass(frozen=True)
class PartDecision:
    """What the rule decided for one part."""

    part: str
    found: bool
    box: Box | None
    score: float  # the part's best box score (0 when nothing was detected)

    def as_region(self) -> Region:
        """The contract's region (score rounded to 4 places)."""
        return Region(found=self.found, box=self.box, presence=round(self.score, 4))


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
    part_index: int, detections: Iterable[Detection], threshold: float = PART_THRESHOLD
) -> PartDecision:
    """The part's best box, found when it scores ``threshold`` or more."""
    mine = [d for d in detections if decode_label(d.label) == part_index]
    part = PARTS[part_index]
    if not mine:
        return PartDecision(part, False, None, 0.0)
    best = max(mine, key=lambda d: d.score)
    found = best.score >= threshold
    return PartDecision(part, found, best.box if found else None, best.score)


def decide_parts(
    detections: Sequence[Detection], threshold: float = PART_THRESHOLD
) -> dict[str, PartDecision]:
    """Every part's decision."""
    return {part: decide_part(i, detections, threshold) for i, part in enumerate(PARTS)}
