"""``face_type``: each region's type, the seed's weighted score and the served type, of one to
three photos of one person, how sure it is, and whether the photos show one person.

A request is the gateway's upright face crop (the same image ``face_regions`` gets) as raw
bytes, or :class:`core.schemas.TypeRequest` as JSON (TorchServe's worker json-decodes an
``application/json`` body): one to three crops, base64 JPEG. Each crop's whole face, T-zone and
jaw are embedded by dlib's face network ported to torch (:mod:`model_server.runtime.embedding`;
on the worker's GPU when TorchServe gives it one), with dlib's face descriptor of its plain
aligned chip. The type model (:mod:`model_server.runtime.type_model`, ``type_model.json``)
combines the crops' region values (their mean), types them, and says the margin to the nearest
type bound and the type across it when close (``near``). The answer also gives each crop's
descriptor distance to the first's and the artefact's identity threshold (the gateway refuses
photos of different people) and the person's descriptor (unit norm; the gateway keeps it in
memory only). The features (views, mirror, gain) are the ones the artefact records in
``meta.features``: the model is served as it was trained. The crop's margin, the points and the
bounds are :mod:`core.parameters`'s; the answer states them.

Errors per request: a crop that cannot be decoded ``image_corrupt``; a JSON body that is not a
``TypeRequest`` (no crops, more than three, not strings) ``image_unprocessable``. Handler
settings (model-config ``handler:``): ``face_net`` (``face_net.pt``: the converted weights the
archive ships), ``combination`` ("seed_vote" | "face" | "average"; default: the artefact's
``served``), ``num_threads`` (1).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import ValidationError

from core.parameters import CROP
from core.schemas import CropInfo, Identity, ServedModel, TypeAnswer, TypeRequest
from model_server.runtime.embedding import FaceEmbedder, Features
from model_server.runtime.handlers.base import (
    ImageHandler,
    RequestError,
    decode_image,
    request_body,
)
from model_server.runtime.type_model import (
    TypedPhotos,
    TypeModel,
    identity_distances,
    person_descriptor,
)

DEFAULT_ARTEFACT = "type_model.json"
DEFAULT_FACE_NET = "face_net.pt"
SERVING_KEYS = ("noise", "near_threshold", "identity")  # what an artefact needs to be served
# TorchServe loads the one class this module defines: everything else lives in the runtime.


class FaceTypeHandler(ImageHandler):
    def load(self, context: Any) -> None:
        model_dir = context.system_properties.get("model_dir") or "."
        serialized = self.manifest.get("model", {}).get("serializedFile", DEFAULT_ARTEFACT)
        artefact = json.loads(Path(model_dir, serialized).read_text())
        missing = [key for key in SERVING_KEYS if key not in artefact]
        if missing:
            raise ValueError(f"{serialized} lacks {missing}: retrain (type-model)")
        self.model = TypeModel(artefact, combination=self.config.get("combination"))
        self.embedder = FaceEmbedder(
            os.path.join(model_dir, self.config.get("face_net", DEFAULT_FACE_NET)),
            Features.from_meta(artefact.get("meta", {}).get("features", {})),
            self.device,
        )

    def preprocess(self, data: list[Any]) -> list[list[Image.Image] | RequestError]:
        return [self.crops(request_body(request)) for request in data]

    def crops(self, body: Any) -> list[Image.Image] | RequestError:
        """A request's decoded crops: raw image bytes (one crop) or a ``TypeRequest``."""
        if isinstance(body, dict | list):
            try:
                request = TypeRequest.model_validate(body)
            except ValidationError:
                return RequestError("image_unprocessable")
            raw = [_from_base64(crop) for crop in request.crops]
        else:
            raw = [body]
        images = [decode_image(b, self.max_pixels, self.min_side) for b in raw]
        errors = [image for image in images if isinstance(image, RequestError)]
        return errors[0] if errors else images  # type: ignore[return-value]

    def predict(self, requests: list[list[Image.Image]]) -> list[TypedPhotos]:
        """Every crop of every request embedded, then each request's crops typed together."""
        embedded = iter(
            self.embedder.embed_crops([crop for crops in requests for crop in crops], CROP.margin)
        )
        typed = []
        for crops in requests:
            mine = [next(embedded) for _ in crops]
            descriptors = [e.descriptor for e in mine]
            typed.append(
                TypedPhotos(
                    self.model.predict_photos([e.regions for e in mine]),
                    identity_distances(descriptors),
                    person_descriptor(descriptors),
                )
            )
        return typed

    def answer(self, crops: list[Image.Image], typed: TypedPhotos) -> TypeAnswer:
        prediction = typed.prediction
        return TypeAnswer(
            type=prediction.type,  # type: ignore[arg-type]
            combination=self.model.combination,  # type: ignore[arg-type]
            score=prediction.score,
            regions=prediction.regions,  # type: ignore[arg-type]
            photos=prediction.photos,
            margin=round(prediction.margin, 3),
            near=prediction.near,  # type: ignore[arg-type]
            near_threshold=self.model.near_threshold,
            identity=Identity(
                threshold=self.model.identity_threshold,
                distances=[round(d, 4) for d in typed.distances],
            ),
            descriptor=[round(float(v), 6) for v in typed.descriptor],
            points={part: list(p) for part, p in self.model.points.items()},  # type: ignore[misc]
            bounds=[(bound, name) for bound, name in self.model.bounds],  # type: ignore[misc]
            width=crops[0].width,
            height=crops[0].height,
            crop=CropInfo.served(),
            model=ServedModel(**self.model_info),
        )


def _from_base64(text: str) -> bytes:
    """The crop's bytes (empty when it is not base64: then ``image_corrupt``)."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""
