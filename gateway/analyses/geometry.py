"""Pixels and coordinates of one analysis: the detection copy, boxes back to the photo."""

from __future__ import annotations

from PIL import Image

from core.crop import Crop
from core.schemas import Face, FaceCheckAnswer, Landmarks, Region, TypeAnswer
from gateway.analyses.schemas import RegionOut
from gateway.imaging import encode_jpeg

DETECT_SIDE = 640  # default (Settings.detect_side): MTCNN on 640 px costs 68 ms, on 1280 210 ms


def detection_jpeg(image: Image.Image, side: int = DETECT_SIDE) -> tuple[bytes, float]:
    """A JPEG whose longer side is at most ``side``, and the factor back to the original."""
    scale = max(max(image.size) / side, 1.0)
    if scale > 1:
        size = (round(image.width / scale), round(image.height / scale))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=1.0)  # 4x faster
    return encode_jpeg(image), scale


def scale_faces(detection: FaceCheckAnswer, scale: float) -> FaceCheckAnswer:
    """Face boxes and landmarks from the downscaled copy back to original pixels."""

    def scaled(face: Face) -> Face:
        x1, y1, x2, y2 = face.box
        points = {
            name: (x * scale, y * scale) for name, (x, y) in face.landmarks.model_dump().items()
        }
        return face.model_copy(
            update={
                "box": (x1 * scale, y1 * scale, x2 * scale, y2 * scale),
                "landmarks": Landmarks(**points),
            }
        )

    return detection.model_copy(update={"faces": [scaled(face) for face in detection.faces]})


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
