"""How stable the served type is: one photo changed, and two photos of one person.

- Variants: every London photo through the serving path (MTCNN -> upright crop -> dlib
  alignment -> the torch face network -> the served type model), then under each hard variant
  (:data:`VARIANTS`: the mirror image, JPEG 40 and 60, 60 % and 80 % scale, +-5 degree rotation,
  +-20 % brightness, the face box shifted by 5 % of the face): the share of photos whose served
  type does not change, per variant and under all of them at once.
- Expression: each person's neutral (``_03``) and smiling (``_08``) photo, each predicted by
  models that never saw the person (out of fold): the share of people whose two photos get the
  same type, and the same or an adjacent one.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps
from tqdm import tqdm

from core.crop import upright_crop
from core.parameters import CROP
from core.taxonomy import TYPES
from model_server.runtime.embedding import FaceEmbedder, Features
from model_server.runtime.face_detector import DetectedFace, FaceDetector
from model_server.runtime.type_model import TypeModel
from model_server.tools.dlib_weights import converted
from model_server.training.london import person_of


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _scale(image: Image.Image, factor: float) -> Image.Image:
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.LANCZOS)


def _rotate(image: Image.Image, degrees: float) -> Image.Image:
    return image.rotate(degrees, Image.BICUBIC, expand=True, fillcolor=(128, 128, 128))


# A variant changes the photo, or (``shift_5``) the detected face box, as a different detector
# run or a slightly different framing would.
VARIANTS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "mirror": ImageOps.mirror,
    "jpeg_q40": lambda im: _jpeg(im, 40),
    "jpeg_q60": lambda im: _jpeg(im, 60),
    "scale_60": lambda im: _scale(im, 0.6),
    "scale_80": lambda im: _scale(im, 0.8),
    "rotate_+5": lambda im: _rotate(im, 5),
    "rotate_-5": lambda im: _rotate(im, -5),
    "bright_+20": lambda im: ImageEnhance.Brightness(im).enhance(1.2),
    "bright_-20": lambda im: ImageEnhance.Brightness(im).enhance(0.8),
    "shift_5": lambda im: im,
}
BOX_SHIFT = 0.05  # shift_5: the face box moves right and down by 5 % of its width


def crop_of(image: Image.Image, face: DetectedFace, shift: float = 0.0) -> Image.Image:
    """The gateway's upright crop of a face, its box moved by ``shift`` of its width."""
    x1, y1, x2, y2 = face.box
    d = shift * (x2 - x1)
    left, right = face.landmarks[0], face.landmarks[1]
    box = (x1 + d, y1 + d, x2 + d, y2 + d)
    return upright_crop(image, box, left, right, margin=CROP.margin, size=CROP.size).image


def crop_embeddings(
    image: Image.Image, detector: FaceDetector, embedder: FaceEmbedder, shift: float = 0.0
) -> dict[str, np.ndarray] | None:
    """The served features of the photo's largest face (None without a face)."""
    faces = detector.detect([image])[0]
    if not faces:
        return None
    return embedder.crop_regions(crop_of(image, faces[0], shift), CROP.margin)


def variant_types(
    image: Image.Image, detector: FaceDetector, embedder: FaceEmbedder, model: TypeModel
) -> dict[str, str] | None:
    """The served type of the photo and of each variant (None when a face is lost)."""
    types = {}
    for name, change in {"original": lambda im: im, **VARIANTS}.items():
        shift = BOX_SHIFT if name == "shift_5" else 0.0
        features = crop_embeddings(change(image), detector, embedder, shift)
        if features is None:
            return None
        types[name] = model.predict(features).type
    return types


def reencoding(
    photos: Sequence[Path], model: TypeModel, features: Features
) -> dict[str, float | int]:
    """Share of photos whose served type survives each variant, and all of them at once
    (photos with a face in every variant), served with ``features``."""
    detector, embedder = FaceDetector(), FaceEmbedder(converted(), features)
    same = dict.fromkeys([*VARIANTS, "all_variants"], 0)
    counted = 0
    for path in tqdm(photos, desc="stability", unit="photo"):
        types = variant_types(Image.open(path).convert("RGB"), detector, embedder, model)
        if types is None:
            continue
        counted += 1
        for name in VARIANTS:
            same[name] += types[name] == types["original"]
        same["all_variants"] += len(set(types.values())) == 1
    return {"photos": counted} | {name: round(v / max(1, counted), 4) for name, v in same.items()}


def expression_pairs(
    names: Sequence[str], photo_values: Mapping[str, np.ndarray], model: TypeModel
) -> dict[str, float | int]:
    """Neutral vs smiling photo of each person, out of fold: same and same-or-adjacent type."""
    served = {}
    for i, name in enumerate(names):
        values = {region: float(v[i]) for region, v in photo_values.items()}
        served[Path(name).stem] = TYPES.index(model.decide(values).type)  # type: ignore[arg-type]
    pairs = [
        (served[f"{p}_03"], served[f"{p}_08"])
        for p in sorted({person_of(n) for n in names})
        if f"{p}_03" in served and f"{p}_08" in served
    ]
    return {
        "people": len(pairs),
        "same": round(float(np.mean([a == b for a, b in pairs])), 4),
        "same_or_adjacent": round(float(np.mean([abs(a - b) <= 1 for a, b in pairs])), 4),
    }


def photo_figures(
    names: Sequence[str],
    photo_values: Mapping[str, np.ndarray],
    true_types: Mapping[str, int],
    model: TypeModel,
) -> dict[str, dict[str, float]]:
    """One photo at a time, as served, out of fold: the served type's exact and within-one
    rates, and per region the mean stated probability of its type vs how often it is right."""
    decided = [
        model.decide({r: float(v[i]) for r, v in photo_values.items()}) for i in range(len(names))
    ]
    truth = [true_types[person_of(n)] for n in names]

    def rate(hit: Callable[[int, int], bool], predicted: Sequence[int]) -> float:
        return round(float(np.mean([hit(a, b) for a, b in zip(predicted, truth, strict=True)])), 4)

    served = [TYPES.index(d.type) for d in decided]  # type: ignore[arg-type]
    out = {
        "served": {
            "exact": rate(lambda a, b: a == b, served),
            "within_one": rate(lambda a, b: abs(a - b) <= 1, served),
        }
    }
    for region in photo_values:
        answers = [d.regions[region] for d in decided]
        out[region] = {
            "stated": round(float(np.mean([a.probability for a in answers])), 4),
            "observed": rate(lambda a, b: a == b, [TYPES.index(a.type) for a in answers]),
        }
    return out
