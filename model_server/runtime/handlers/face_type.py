"""``face_type``: each face region's type, the seed's weighted score and the served type.

Takes the gateway's upright face crop (the same image ``face_regions`` gets), embeds the whole
face, the T-zone and the jaw with dlib's face network ported to torch
(:mod:`model_server.runtime.embedding`; every chip of a TorchServe batch in one forward pass, on
the worker's GPU when TorchServe gives it one) and applies the type model
(:mod:`model_server.runtime.type_model`, ``type_model.json``). The features (views, mirror) are
the ones the artefact records in ``meta.features``: the model is served as it was trained.
The crop's margin, the points and the bounds are :mod:`core.contract`'s; the answer states them.
Handler settings (model-config ``handler:``): ``face_net`` (``face_net.pt``: the converted
weights the archive ships), ``combination`` ("seed_vote" | "face" | "average"; default: the
artefact's ``served``), ``num_threads`` (1).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PIL import Image

from core.contract import CROP
from core.schemas import CropInfo, ServedModel, TypeAnswer
from model_server.runtime.embedding import FaceEmbedder, Features
from model_server.runtime.handlers import ImageHandler
from model_server.runtime.type_model import TypeModel, TypePrediction

DEFAULT_ARTEFACT = "type_model.json"
DEFAULT_FACE_NET = "face_net.pt"


class FaceTypeHandler(ImageHandler):
    def load(self, context: Any) -> None:
        model_dir = context.system_properties.get("model_dir") or "."
        serialized = self.manifest.get("model", {}).get("serializedFile", DEFAULT_ARTEFACT)
        artefact = json.loads(Path(model_dir, serialized).read_text())
        self.model = TypeModel(artefact, combination=self.config.get("combination"))
        self.embedder = FaceEmbedder(
            os.path.join(model_dir, self.config.get("face_net", DEFAULT_FACE_NET)),
            Features.from_meta(artefact.get("meta", {}).get("features", {})),
            self.device,
        )

    def predict(self, images: list[Image.Image]) -> list[TypePrediction]:
        features = self.embedder.crop_regions_batch(images, CROP.margin)
        return [self.model.predict(regions) for regions in features]

    def answer(self, image: Image.Image, prediction: TypePrediction) -> TypeAnswer:
        return TypeAnswer(
            type=prediction.type,  # type: ignore[arg-type]
            combination=self.model.combination,  # type: ignore[arg-type]
            score=prediction.score,
            regions=prediction.regions,  # type: ignore[arg-type]
            points={part: list(p) for part, p in self.model.points.items()},  # type: ignore[misc]
            bounds=[(bound, name) for bound, name in self.model.bounds],  # type: ignore[misc]
            width=image.width,
            height=image.height,
            crop=CropInfo.served(),
            model=ServedModel(**self.model_info),
        )
