"""128-d face embeddings of a face and its regions: dlib aligns, the torch port embeds.

The face is aligned by dlib's own 5-point landmarks found inside the face box (MTCNN's points do
not fit dlib's alignment) into a 150 px chip with padding 0.25. A region's embedding is that of
the chip with everything outside the region filled with the chip's mean colour: the T-zone is
the outer eye corners, from 0.7 d above the eye line down to the nose base (d = eye line to nose
base); the jaw is the nose base to the chip's bottom, centre +- 0.75 W (W = outer eye corners).

Served features (:meth:`FaceEmbedder.embed_crops`) average several views of each face: the
crop and its mirror image, each aligned as is and, per :class:`Features`, with the chip's
window moved or scaled a little (test-time augmentation). Beside them, each crop gets dlib's face
descriptor: the embedding of the plain aligned chip (no view moved, no mirror, no gain), as
dlib's ``compute_face_descriptor`` gives it; the type model compares descriptors to tell whether
several photos show one person. Each crop's chips go through
:class:`~model_server.runtime.face_net.FaceNet` in a forward pass of their own, of one fixed
shape: a crop's numbers are then bit-identical whatever else shares its TorchServe batch (one
pass over the whole batch moved them by up to 3e-7 with the batch's size; per crop is no slower
on CPU, measured). Model files
ship in the face_recognition_models package (dlib's models are public domain); its 68-point
model is never used (its training data is not licensed for commercial use).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlib
import numpy as np
import torch
from PIL import Image, ImageOps

from core.taxonomy import PARTS
from model_server.runtime.face_net import INPUT_SIZE, FaceNet

CHIP_SIZE = INPUT_SIZE
CHIP_PADDING = 0.25
GAIN_TARGET = 115.0  # about the mean of dlib's input mean colour (122.8, 117.0, 104.3)


def model_file(name: str) -> Path:
    """A model file of face_recognition_models (its __init__ needs pkg_resources: not imported)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed (requirements/model.txt)")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise RuntimeError(f"{path} is missing")
    return path


View = tuple[float, float, float]  # (dx, dy, scale): shift in chip widths, window scale


@dataclass(frozen=True)
class Features:
    """How the served features are made; the type-model artefact records the ones it was
    trained on (``meta.features``) and the handler serves exactly those."""

    chip_size: int = CHIP_SIZE
    chip_padding: float = CHIP_PADDING
    mirror: bool = True
    # Each chip's brightness scaled to GAIN_TARGET (a photo taken darker or brighter embeds alike)
    gain: bool = False
    views: tuple[View, ...] = ((0.0, 0.0, 1.0),)

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> Features:
        """From an artefact's ``meta.features``; a chip this runtime cannot make is refused."""
        features = cls(
            chip_size=int(meta.get("chip_size", CHIP_SIZE)),
            chip_padding=float(meta.get("chip_padding", CHIP_PADDING)),
            mirror=bool(meta.get("mirror", True)),
            gain=bool(meta.get("gain", False)),
            views=tuple(tuple(float(v) for v in view) for view in meta.get("views", [(0, 0, 1)])),  # type: ignore[misc]
        )
        if (features.chip_size, features.chip_padding) != (CHIP_SIZE, CHIP_PADDING):
            raise ValueError(
                f"the artefact's chips ({features.chip_size} px, padding {features.chip_padding})"
                f" are not this runtime's ({CHIP_SIZE} px, padding {CHIP_PADDING})"
            )
        return features

    def as_meta(self) -> dict[str, Any]:
        return {
            "chip_size": self.chip_size,
            "chip_padding": self.chip_padding,
            "mirror": self.mirror,
            "gain": self.gain,
            "views": [list(view) for view in self.views],
        }

    @property
    def chips_per_face(self) -> int:
        return len(PARTS) * len(self.views) * (2 if self.mirror else 1)


@dataclass(frozen=True)
class CropEmbedding:
    """One crop's embeddings: each region's served features, and dlib's face descriptor (the
    plain aligned chip's raw 128-d embedding, as ``compute_face_descriptor`` gives it)."""

    regions: dict[str, np.ndarray]
    descriptor: np.ndarray


class FaceEmbedder:
    """Aligned chips and 128-d embeddings of the whole face, the T-zone and the jaw."""

    def __init__(
        self,
        weights: str | Path,
        features: Features | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        self.shape = dlib.shape_predictor(str(model_file("shape_predictor_5_face_landmarks.dat")))
        self.net = FaceNet.load(weights, device)
        self.features = features or Features()

    def aligned(self, image: Image.Image, box: Sequence[float]) -> tuple[np.ndarray, Any]:
        """The image as RGB array and dlib's chip details of the face in ``box`` (x1, y1, x2,
        y2): its 5 points found inside the box, 150 px, padding 0.25."""
        rgb = np.asarray(image.convert("RGB"))
        x1, y1, x2, y2 = (round(v) for v in box)
        shape = self.shape(rgb, dlib.rectangle(x1, y1, x2, y2))
        return rgb, dlib.get_face_chip_details(shape, size=CHIP_SIZE, padding=CHIP_PADDING)

    def view_chips(self, rgb: np.ndarray, details: Any) -> list[np.ndarray]:
        """The aligned chips of the face, one per view (brightness-normalised with ``gain``)."""
        chips = [dlib.extract_image_chip(rgb, moved(details, view)) for view in self.features.views]
        return [gain_normalised(chip) for chip in chips] if self.features.gain else chips

    def chips(self, image: Image.Image, box: Sequence[float]) -> list[np.ndarray]:
        """The aligned 150 px chips of the face in ``box`` (x1, y1, x2, y2), one per view."""
        return self.view_chips(*self.aligned(image, box))

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

    def face_chips(self, crop: Image.Image, margin: float, descriptor: bool = False) -> np.ndarray:
        """(chips_per_face, 150, 150, 3): every region chip of every view of an upright crop;
        with ``descriptor``, one more row last: the plain aligned chip (the descriptor's).

        The face is the centred square that the crop's margin leaves (dlib's 5-point model was
        trained on square detector boxes). Rows are ordered mirror, view, region (PARTS)."""
        box = face_box_in_crop(crop.width, margin)
        rgb, details = self.aligned(crop, box)
        views = self.view_chips(rgb, details)
        if self.features.mirror:
            views += self.chips(ImageOps.mirror(crop), box)
        regions = [self.region_chips(chip) for chip in views]
        rows = [chips[part] for chips in regions for part in PARTS]
        if descriptor:
            rows.append(dlib.extract_image_chip(rgb, details))
        return np.stack(rows)

    def embed_crops(self, crops: Sequence[Image.Image], margin: float) -> list[CropEmbedding]:
        """Each upright face crop's served features and face descriptor; each crop's chips in a
        forward pass of their own (the same numbers whatever the batch)."""
        embedded = []
        for crop in crops:
            vectors = self.net.embed(self.face_chips(crop, margin, descriptor=True))
            regions = vectors[:-1].reshape(-1, len(PARTS), vectors.shape[1]).mean(axis=0)
            embedded.append(CropEmbedding(dict(zip(PARTS, regions, strict=True)), vectors[-1]))
        return embedded

    def crop_regions_batch(
        self, crops: Sequence[Image.Image], margin: float
    ) -> list[dict[str, np.ndarray]]:
        """:meth:`crop_regions` of several crops."""
        return [embedded.regions for embedded in self.embed_crops(crops, margin)]

    def crop_regions(self, crop: Image.Image, margin: float) -> dict[str, np.ndarray]:
        """The served features of an upright face crop (``core.crop.upright_crop`` with
        ``margin``): each region's embedding averaged over the views and the mirror image."""
        return self.crop_regions_batch([crop], margin)[0]


def gain_normalised(chip: np.ndarray) -> np.ndarray:
    """The chip scaled so that its mean brightness is :data:`GAIN_TARGET`."""
    mean = float(chip.mean())
    if mean <= 0:
        return chip
    return np.clip(chip * (GAIN_TARGET / mean) + 0.5, 0, 255).astype(np.uint8)


def moved(details: Any, view: View) -> Any:
    """dlib chip details with the window shifted by (dx, dy) chip widths and scaled."""
    dx, dy, scale = view
    if (dx, dy, scale) == (0.0, 0.0, 1.0):
        return details
    rect = details.rect
    cx, cy = (rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2
    half = rect.width() * scale / 2
    cx, cy = cx + dx * rect.width(), cy + dy * rect.width()
    return dlib.chip_details(
        dlib.drectangle(cx - half, cy - half, cx + half, cy + half),
        dlib.chip_dims(details.rows, details.cols),
        details.angle,
    )


def face_box_in_crop(size: int, margin: float) -> tuple[float, float, float, float]:
    """The centred square of side ``size / (1 + 2 margin)``: the face box of an upright crop."""
    side = size / (1 + 2 * margin)
    start = (size - side) / 2
    return (start, start, start + side, start + side)
