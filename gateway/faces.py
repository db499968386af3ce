"""Faces in photos, through the model server: the largest face found on a small copy, cropped
upright as the models were trained, and described (the dlib descriptor ``face_type`` answers).

Shared by analyses (:mod:`gateway.analyses.photos`) and the catalog's look-alikes
(:mod:`gateway.catalog.service`); no FastAPI here.
"""

from __future__ import annotations

import asyncio

from PIL import Image

from core.crop import Crop, upright_crop
from core.schemas import Face, FaceCheckAnswer, Landmarks
from gateway.clients.torchserve import ModelServerClient
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


def crop_of(image: Image.Image, face: Face) -> Crop:
    """The face's upright crop (:data:`core.parameters.CROP`), as both models were trained on."""
    return upright_crop(image, face.box, face.landmarks.left_eye, face.landmarks.right_eye)


async def face_descriptor(
    models: ModelServerClient, image: Image.Image, detect_side: int
) -> list[float] | None:
    """The dlib descriptor of the image's largest face (128 floats of unit length), or None
    when it has no face: how a catalog image is described for look-alikes."""
    small, scale = await asyncio.to_thread(detection_jpeg, image, detect_side)
    detection = scale_faces(await models.face_check(small), scale)
    if not detection.faces:
        return None
    crop = await asyncio.to_thread(crop_of, image, detection.faces[0])
    typed = await models.face_type([await asyncio.to_thread(encode_jpeg, crop.image)])
    return [round(value, 6) for value in typed.descriptor]
