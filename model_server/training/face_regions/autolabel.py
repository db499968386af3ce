"""Auto-labelling of the three face parts from MTCNN's box and 5 landmarks (``autolabel``).

Geometry, in an upright frame, with ``d`` the eye-to-eye distance, ``(cx, ey)`` the midpoint of
the eyes, ``ny`` the nose tip and ``my`` the mouth corners' mean height (constants are the medians
of the London set's hand-placed landmarks expressed in those units):

- face: MTCNN's box (forehead to chin, cheek to cheek);
- T-zone: brows to nose base (``ey - 0.40 d`` .. ``ny + 0.18 d``), eye to eye (outer corners,
  ``cx +- 0.70 d``);
- jaw: nose base to chin (``ny + 0.18 d`` .. ``my + 0.70 d``), jaw line to jaw line
  (``cx +- 0.96 d``).

Labels are written COCO-style, in the coordinates of the gateway's upright crop of the largest
face (:func:`core.crop.upright_crop`), plus that face's detection in original coordinates.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from core.crop import Crop, upright_crop
from core.parameters import CROP
from core.schemas import Box, Point
from core.taxonomy import PARTS
from model_server.runtime.parts import iou

BROW_ABOVE_EYES = 0.40
NOSE_BASE_BELOW_TIP = 0.18
EYE_OUTER_CORNER = 0.70
CHIN_BELOW_MOUTH = 0.70
JAW_HALF_WIDTH = 0.96

# Index groups of the webmorph FRL 189-point template (found by plotting 001_03).
FRL_EYES = range(18, 34)  # eye outlines (0/1 pupils, 2-17 irises)
FRL_BROWS = range(71, 87)
FRL_NOSE = (*range(50, 71), *range(179, 183))
FRL_CHEEKS = range(109, 115)
FRL_JAW = range(125, 134)  # jaw line, ear lobe to ear lobe through the chin (129)
FRL_HAIRLINE = range(134, 145)


def part_boxes(box: Sequence[float], landmarks: Sequence[Sequence[float]]) -> dict[str, Box]:
    """Face, T-zone and jaw boxes from a face box and its 5 landmarks (upright frame)."""
    (lx, ly), (rx, ry), (_, ny), (_, mly), (_, mry) = (tuple(p) for p in landmarks[:5])
    d = math.hypot(rx - lx, ry - ly)
    cx, ey, my = (lx + rx) / 2, (ly + ry) / 2, (mly + mry) / 2
    nose_base = ny + NOSE_BASE_BELOW_TIP * d
    face = (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
    t_zone = (
        cx - EYE_OUTER_CORNER * d,
        ey - BROW_ABOVE_EYES * d,
        cx + EYE_OUTER_CORNER * d,
        nose_base,
    )
    jaw = (cx - JAW_HALF_WIDTH * d, nose_base, cx + JAW_HALF_WIDTH * d, my + CHIN_BELOW_MOUTH * d)
    return {"face": face, "t_zone": t_zone, "jaw": jaw}


def face_in_crop(
    crop: Crop, box: Sequence[float], landmarks: Sequence[Sequence[float]]
) -> tuple[Box, list[Point]]:
    """A face's box and landmarks in crop coordinates (the box keeps its size, unrotated)."""
    a, b, _, d, e, _ = crop.matrix
    scale = math.sqrt(abs(a * e - b * d))  # original pixels per crop pixel
    cu, cv = crop.to_crop(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
    hw, hh = (box[2] - box[0]) / 2 / scale, (box[3] - box[1]) / 2 / scale
    return (cu - hw, cv - hh, cu + hw, cv + hh), [crop.to_crop(p) for p in landmarks]


def clip_box(box: Sequence[float], size: int) -> Box:
    x1, y1, x2, y2 = (min(max(float(v), 0.0), float(size)) for v in box)
    return (x1, y1, x2, y2)


def reference_boxes(points: Sequence[Sequence[float]]) -> dict[str, Box]:
    """Face, T-zone and jaw boxes from the hand-placed 189-point landmarks (original frame)."""

    def pick(indices: Sequence[int]) -> list[Sequence[float]]:
        return [points[i] for i in indices]

    def extent(pts: Sequence[Sequence[float]], axis: int) -> tuple[float, float]:
        values = [p[axis] for p in pts]
        return min(values), max(values)

    nose_base = extent(pick(FRL_NOSE), 1)[1]
    brow_top = extent(pick(FRL_BROWS), 1)[0]
    chin = extent(pick(FRL_JAW), 1)[1]
    eye_x = extent(pick(FRL_EYES), 0)
    jaw_x = extent(pick(FRL_JAW), 0)
    face_x = extent(pick((*FRL_CHEEKS, *FRL_JAW)), 0)
    hairline = extent(pick(FRL_HAIRLINE), 1)[0]
    return {
        "face": (face_x[0], hairline, face_x[1], chin),
        "t_zone": (eye_x[0], brow_top, eye_x[1], nose_base),
        "jaw": (jaw_x[0], nose_base, jaw_x[1], chin),
    }


def autolabel_images(
    image_paths: Sequence[Path],
    *,
    detector: object | None = None,
    margin: float = CROP.margin,
    size: int = CROP.size,
) -> dict[str, object]:
    """COCO-style labels of the largest face of each image, in crop coordinates.

    Images without a face are listed under ``"skipped"``.
    """
    if detector is None:
        from model_server.runtime.face_detector import FaceDetector

        detector = FaceDetector()
    images, annotations, skipped = [], [], []
    for image_id, path in enumerate(tqdm(image_paths, desc="autolabel", unit="img"), start=1):
        with Image.open(path) as img:
            image = img.convert("RGB")
        faces = detector.detect([image])[0]  # type: ignore[attr-defined]
        if not faces:
            skipped.append(path.name)
            continue
        face = faces[0]
        crop = upright_crop(
            image, face.box, face.landmarks[0], face.landmarks[1], margin=margin, size=size
        )
        box_c, marks_c = face_in_crop(crop, face.box, face.landmarks)
        images.append(
            {
                "id": image_id,
                "file_name": path.name,
                "width": image.width,
                "height": image.height,
                "faces_found": len(faces),
                "face": face.as_answer().model_dump(mode="json"),
                "crop": {"size": size, "margin": margin, "matrix": list(crop.matrix)},
            }
        )
        for part_index, (part, pbox) in enumerate(part_boxes(box_c, marks_c).items()):
            x1, y1, x2, y2 = clip_box(pbox, size)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": part_index + 1,
                    "part": part,
                    "bbox": [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)],
                    "area": round((x2 - x1) * (y2 - y1), 1),
                    "iscrowd": 0,
                }
            )
    return {
        "info": {"description": "AlphaMale face-part auto-labels (crop coordinates)"},
        "categories": [{"id": i + 1, "name": p} for i, p in enumerate(PARTS)],
        "images": images,
        "annotations": annotations,
        "skipped": skipped,
    }


def compare_with_landmarks(
    labels: Mapping[str, object], landmarks: Mapping[str, object]
) -> dict[str, object]:
    """Mean IoU per part of the auto-labels against boxes from the 189-point landmarks.

    Compared in original coordinates (the auto-label geometry applied to the original MTCNN
    detection), for every image that has both.
    """
    faces = landmarks["faces"]  # type: ignore[index]
    ious: dict[str, list[float]] = {p: [] for p in PARTS}
    for image in labels["images"]:  # type: ignore[union-attr]
        stem = Path(image["file_name"]).stem
        if stem not in faces:
            continue
        face = image["face"]
        marks = [face["landmarks"][k] for k in face["landmarks"]]
        auto = part_boxes(face["box"], marks)
        ref = reference_boxes(faces[stem]["points"])
        for part in PARTS:
            ious[part].append(iou(auto[part], ref[part]))
    return {
        "images": len(ious["face"]),
        "mean_iou": {p: round(sum(v) / len(v), 4) if v else None for p, v in ious.items()},
        "min_iou": {p: round(min(v), 4) if v else None for p, v in ious.items()},
    }


def save_json(body: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=1))
