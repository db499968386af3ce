"""dlib's 128-d face embedding (ResNet, from face_recognition_models) of a face and its regions.

The face is aligned by dlib's own 5-point landmarks found inside the face box (MTCNN's points do
not fit dlib's alignment) into a 150 px chip with padding 0.25. A region's embedding is that of
the chip with everything outside the region filled with the chip's mean colour: the T-zone is
the outer eye corners, from 0.7 d above the eye line down to the nose base (d = eye line to nose
base); the jaw is the nose base to the chip's bottom, centre +- 0.75 W (W = outer eye corners).
Served features (:meth:`FaceEmbedder.crop_regions`) average the crop's and its mirror image's.
Model files ship in the face_recognition_models package (dlib's models are public domain); its
68-point model is never used (its training data is not licensed for commercial use).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import dlib
import numpy as np
from PIL import Image, ImageOps

CHIP_SIZE = 150
CHIP_PADDING = 0.25
REGIONS = ("face", "t_zone", "jaw")


def model_file(name: str) -> Path:
    """A model file of face_recognition_models (its __init__ needs pkg_resources: not imported)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed (requirements/model.txt)")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise RuntimeError(f"{path} is missing")
    return path


class FaceEmbedder:
    """Aligned chips and 128-d embeddings of the whole face, the T-zone and the jaw."""

    def __init__(self) -> None:
        self.shape = dlib.shape_predictor(str(model_file("shape_predictor_5_face_landmarks.dat")))
        self.net = dlib.face_recognition_model_v1(
            str(model_file("dlib_face_recognition_resnet_model_v1.dat"))
        )

    def chip(self, image: Image.Image, box: Sequence[float]) -> np.ndarray:
        """The aligned 150 px chip of the face in ``box`` (x1, y1, x2, y2)."""
        rgb = np.asarray(image.convert("RGB"))
        x1, y1, x2, y2 = (round(v) for v in box)
        shape = self.shape(rgb, dlib.rectangle(x1, y1, x2, y2))
        return np.asarray(dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING))

    def region_chips(self, chip: np.ndarray) -> dict[str, np.ndarray]:
        """The chip, and the chip with all but the T-zone / the jaw filled with its mean colour."""
        whole = dlib.rectangle(0, 0, chip.shape[1] - 1, chip.shape[0] - 1)
        points = np.array([(p.x, p.y) for p in self.shape(chip, whole).parts()], dtype=float)
        eyes, nose = points[:4], points[4]
        left, right = eyes[:, 0].min(), eyes[:, 0].max()
        eye_y = eyes[:, 1].mean()
        d = max(nose[1] - eye_y, 1.0)
        width = right - left
        boxes = {
            "t_zone": (left, eye_y - 0.7 * d, right, nose[1]),
            "jaw": (nose[0] - 0.75 * width, nose[1], nose[0] + 0.75 * width, chip.shape[0]),
        }
        out = {"face": chip}
        mean = chip.reshape(-1, 3).mean(axis=0).astype(chip.dtype)
        for name, (bx1, by1, bx2, by2) in boxes.items():
            masked = np.empty_like(chip)
            masked[:] = mean
            rows = slice(max(0, int(by1)), min(chip.shape[0], int(np.ceil(by2))))
            cols = slice(max(0, int(bx1)), min(chip.shape[1], int(np.ceil(bx2))))
            masked[rows, cols] = chip[rows, cols]
            out[name] = masked
        return out

    def embed(self, chip: np.ndarray) -> np.ndarray:
        """The 128-d descriptor of an aligned chip."""
        return np.asarray(self.net.compute_face_descriptor(np.ascontiguousarray(chip)))

    def regions(self, image: Image.Image, box: Sequence[float]) -> dict[str, np.ndarray]:
        """Embeddings of the face, its T-zone and its jaw."""
        chips = self.region_chips(self.chip(image, box))
        return {name: self.embed(chips[name]) for name in REGIONS}

    def crop_regions(self, crop: Image.Image, margin: float) -> dict[str, np.ndarray]:
        """:meth:`regions` of an upright face crop (``core.crop.upright_crop`` with ``margin``),
        averaged with those of its mirror image, so a mirrored photo gets (almost) the same.

        The face is the centred square that the crop's margin leaves (dlib's 5-point model was
        trained on square detector boxes); measured on 12 London photos, the embeddings differ
        from those of the original photo's MTCNN box by 0.05 on average (same person < 0.6).
        """
        box = face_box_in_crop(crop.width, margin)
        plain = self.regions(crop, box)
        mirrored = self.regions(ImageOps.mirror(crop), box)
        return {name: (plain[name] + mirrored[name]) / 2 for name in REGIONS}


def face_box_in_crop(size: int, margin: float) -> tuple[float, float, float, float]:
    """The centred square of side ``size / (1 + 2 margin)``: the face box of an upright crop."""
    side = size / (1 + 2 * margin)
    start = (size - side) / 2
    return (start, start, start + side, start + side)
