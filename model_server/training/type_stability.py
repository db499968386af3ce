"""How stable the served type is: one photo re-encoded, and two photos of one person.

- Re-encoding: every London photo through the serving path (MTCNN -> upright crop -> dlib
  embeddings -> the served type model), then mirrored, re-saved at JPEG quality 60 and scaled
  to 80 %: the share of photos whose served type does not change.
- Expression: each person's neutral (``_03``) and smiling (``_08``) photo, each predicted by
  models that never saw the person (out of fold): the share of people whose two photos get the
  same type, and the same or an adjacent one.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from tqdm import tqdm

from core.crop import DEFAULT_MARGIN, DEFAULT_SIZE, upright_crop
from core.taxonomy import TYPES
from model_server.runtime.embedding import FaceEmbedder
from model_server.runtime.face_detector import Face, FaceDetector
from model_server.runtime.type_model import TypeModel
from model_server.tools.dlib_weights import converted
from model_server.training.datasets import person_of


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


VARIANTS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "mirror": ImageOps.mirror,
    "jpeg_q60": lambda im: _jpeg(im, 60),
    "scale_80": lambda im: im.resize(
        (round(im.width * 0.8), round(im.height * 0.8)), Image.LANCZOS
    ),
}


def crop_of(image: Image.Image, face: Face) -> Image.Image:
    """The gateway's upright crop of a face."""
    left, right = face.landmarks[0], face.landmarks[1]
    return upright_crop(
        image, face.box, left, right, margin=DEFAULT_MARGIN, size=DEFAULT_SIZE
    ).image


def crop_embeddings(
    image: Image.Image, detector: FaceDetector, embedder: FaceEmbedder
) -> dict[str, np.ndarray] | None:
    """The served features of the photo's largest face (None without a face)."""
    faces = detector.detect([image])[0]
    if not faces:
        return None
    return embedder.crop_regions(crop_of(image, faces[0]), DEFAULT_MARGIN)


def reencoding(photos: Sequence[Path], model: TypeModel) -> dict[str, float | int]:
    """Share of photos whose served type survives each variant (photos with a face in all)."""
    detector, embedder = FaceDetector(), FaceEmbedder(converted())
    same = dict.fromkeys(VARIANTS, 0)
    counted = 0
    for path in tqdm(photos, desc="stability", unit="photo"):
        image = Image.open(path).convert("RGB")
        types = {}
        for name, change in {"original": lambda im: im, **VARIANTS}.items():
            features = crop_embeddings(change(image), detector, embedder)
            if features is None:
                break
            types[name] = model.predict(features).type
        else:
            counted += 1
            for name in VARIANTS:
                same[name] += types[name] == types["original"]
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
