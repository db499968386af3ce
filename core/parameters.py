"""The parameters the gateway, the model server's handlers and training share: one source each.

The gateway crops the face and checks the image; the handlers decode, detect and score; training
builds the crops the models learn from and scores its cross-validation with the served rule.
Each reads these values from here, so no two sides can drift apart. They belong to the trained
models, not to a deployment: changing one means retraining, so none is an environment setting
or a model-config key (a handler refuses a model-config that still names one).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.taxonomy import PartName, TypeSlug


@dataclass(frozen=True)
class CropSpec:
    """The upright face crop both models see: a ``size`` x ``size`` square around the face box,
    whose longer side is widened by ``margin`` on each side."""

    margin: float = 0.25
    size: int = 320

    def as_dict(self) -> dict[str, float | int]:
        return {"margin": self.margin, "size": self.size}


# The crop the region detector and the type model are trained on and served with. The detector's
# input size is the crop's size (it sees the crop unscaled).
CROP = CropSpec()
# Photos of one person one analysis may combine (face_type's TypeRequest: 1 to this many crops).
MAX_PHOTOS = 3
# Largest image area (pixels) anyone decodes: the gateway refuses bigger uploads before decoding,
# the handlers refuse bigger bodies. The gateway may be configured lower, never higher.
MAX_PIXELS = 40_000_000
# Spec 2.4: a part is found when its best box scores this or more.
PART_THRESHOLD = 0.75
# The seed's weighted score: points a part's type adds, alpha..omega.
SCORE_POINTS: dict[PartName, tuple[int, ...]] = {
    "face": (50, 40, 30, 20, 10),
    "t_zone": (40, 32, 24, 16, 8),
    "jaw": (10, 8, 6, 4, 2),
}
# A score strictly above the bound gives the type, checked top-down.
SCORE_BOUNDS: tuple[tuple[float, TypeSlug], ...] = (
    (85, "alpha"),
    (68, "beta"),
    (48, "gamma"),
    (20, "delta"),
    (0, "omega"),
)
# The model-config keys these values replaced; a handler refuses a config that names one.
RETIRED_CONFIG_KEYS = ("crop_margin", "max_pixels", "threshold", "points", "bounds")
