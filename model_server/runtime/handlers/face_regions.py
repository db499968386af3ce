"""``face_regions``: where the three face parts are, on an upright face crop.

Runs the Faster R-CNN region detector on each (already cropped) face image and decides every
part with :func:`model_server.runtime.parts.decide_parts`. Boxes are in the pixel coordinates
of the image received. The parts' types are the ``face_type`` handler's answer.
The part threshold is :data:`core.parameters.PART_THRESHOLD`; the answer states it and the crop.
Handler settings (model-config ``handler:``): ``num_threads`` (1).
"""

from __future__ import annotations

import os
from typing import Any

from PIL import Image
from torchvision.transforms.functional import to_tensor

from core.parameters import PART_THRESHOLD
from core.schemas import CropInfo, RegionsAnswer, ServedModel
from model_server.runtime.checkpoint import load_checkpoint
from model_server.runtime.handlers.base import ImageHandler
from model_server.runtime.parts import Detection, decide_parts
from model_server.runtime.region_detector import to_detections

DEFAULT_CHECKPOINT = "face_regions.pt"


class FaceRegionsHandler(ImageHandler):
    def load(self, context: Any) -> None:
        model_dir = context.system_properties.get("model_dir") or "."
        serialized = self.manifest.get("model", {}).get("serializedFile", DEFAULT_CHECKPOINT)
        checkpoint = load_checkpoint(os.path.join(model_dir, serialized))
        self.trained = checkpoint.trained
        self.model = checkpoint.build_model().to(self.device)
        self.threshold = PART_THRESHOLD

    def predict(self, images: list[Image.Image]) -> list[list[Detection]]:
        outputs = self.model([to_tensor(image).to(self.device) for image in images])
        return [to_detections({k: v.cpu() for k, v in out.items()}) for out in outputs]

    def answer(self, image: Image.Image, detections: list[Detection]) -> RegionsAnswer:
        decisions = decide_parts(detections, self.threshold)
        return RegionsAnswer(
            complete=all(d.found for d in decisions.values()),
            regions={part: decision.as_region() for part, decision in decisions.items()},
            threshold=self.threshold,
            width=image.width,
            height=image.height,
            crop=CropInfo.served(),
            model=ServedModel(**self.model_info, trained=self.trained),
        )
