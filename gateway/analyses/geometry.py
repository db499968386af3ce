"""Coordinates of one analysis: the parts found on the crop, drawn back on the photo."""

from __future__ import annotations

from core.crop import Crop
from core.schemas import Region, TypeAnswer
from gateway.analyses.schemas import RegionOut


def regions_in_photo(
    regions: dict[str, Region], crop: Crop, types: TypeAnswer | None = None
) -> dict[str, RegionOut]:
    """Each part with its box's outline on the photo (a rotated box), where it was found, and
    its type when ``types`` is given."""
    out = {}
    for part, region in regions.items():
        typed = types.regions[part].model_dump(exclude={"value"}) if types else {}
        polygon = (
            [(round(x, 1), round(y, 1)) for x, y in crop.box_to_original(region.box)]
            if region.box
            else None
        )
        out[part] = RegionOut(**region.model_dump(), polygon=polygon, **typed)
    return out
