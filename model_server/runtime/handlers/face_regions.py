"""``face_regions``: the three face parts, their types and the seed's weighted score.

Runs the Faster R-CNN region detector on each (already cropped) face image, decides every part
with :func:`model_server.runtime.scoring.decide_parts` and scores the face with
:func:`model_server.runtime.scoring.classify`. Boxes are in the pixel coordinates of the image
received.
Handler settings (model-config ``handler:``): ``rule`` ("summed" | "single"), ``threshold``
(0.75), ``iou_threshold`` (0.5), ``points`` ({part: [alpha..omega]}), ``bounds``
([[bound, type], ...], top-down), ``num_threads`` (1).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from PIL import Image
from torchvision.transforms.functional import to_tensor

from core.schemas import RegionsAnswer, ServedModel
from core.taxonomy import PARTS, TYPES
from model_server.runtime.checkpoint import load_checkpoint
from model_server.runtime.handlers import ImageHandler, RequestError, predict_each
from model_server.runtime.regions import to_detections
from model_server.runtime.scoring import (
    DEFAULT_BOUNDS,
    DEFAULT_POINTS,
    Detection,
    classify,
    decide_parts,
)

DEFAULT_CHECKPOINT = "face_regions.pt"


def parse_points(raw: Mapping[str, Sequence[int]] | None) -> dict[str, tuple[int, ...]]:
    """Points per part from yaml, validated: every part, one integer per type."""
    points = {**DEFAULT_POINTS, **(raw or {})}
    for part in PARTS:
        if len(points[part]) != len(TYPES):
            raise ValueError(f"points.{part} needs {len(TYPES)} values (alpha..omega)")
    return {part: tuple(int(v) for v in points[part]) for part in PARTS}


def parse_bounds(raw: Sequence[Sequence[Any]] | None) -> tuple[tuple[float, str], ...]:
    """Score bounds from yaml (``[[85, alpha], ...]``), sorted top-down, types checked."""
    if not raw:
        return DEFAULT_BOUNDS
    bounds = tuple((float(bound), str(name)) for bound, name in raw)
    unknown = [name for _, name in bounds if name not in TYPES]
    if unknown:
        raise ValueError(f"bounds name unknown types {unknown}")
    return tuple(sorted(bounds, reverse=True))


class FaceRegionsHandler(ImageHandler):
    def load(self, context: Any) -> None:
        model_dir = context.system_properties.get("model_dir") or "."
        serialized = self.manifest.get("model", {}).get("serializedFile", DEFAULT_CHECKPOINT)
        checkpoint = load_checkpoint(os.path.join(model_dir, serialized))
        self.trained = checkpoint.trained
        self.model = checkpoint.build_model().to(self.device)
        self.rule = str(self.config.get("rule", "summed"))
        if self.rule not in ("summed", "single"):
            raise ValueError(f"handler.rule must be 'summed' or 'single', not {self.rule!r}")
        self.threshold = float(self.config.get("threshold", 0.75))
        self.iou_threshold = float(self.config.get("iou_threshold", 0.5))
        self.points = parse_points(self.config.get("points"))
        self.bounds = parse_bounds(self.config.get("bounds"))

    @torch.inference_mode()
    def inference(
        self, data: list[Image.Image | RequestError], *args: Any, **kwargs: Any
    ) -> list[tuple[Image.Image, list[Detection]] | RequestError]:
        return predict_each(data, self.detect)

    def detect(self, images: list[Image.Image]) -> list[list[Detection]]:
        outputs = self.model([to_tensor(image).to(self.device) for image in images])
        return [to_detections({k: v.cpu() for k, v in out.items()}) for out in outputs]

    def postprocess(
        self, data: list[tuple[Image.Image, list[Detection]] | RequestError]
    ) -> list[dict[str, Any]]:
        return [
            item.as_dict() if isinstance(item, RequestError) else self.answer(*item)
            for item in data
        ]

    def answer(self, image: Image.Image, detections: list[Detection]) -> dict[str, Any]:
        decisions = decide_parts(
            detections, rule=self.rule, threshold=self.threshold, iou_threshold=self.iou_threshold
        )
        outcome, score = classify(decisions, self.points, self.bounds)
        return RegionsAnswer(
            outcome=outcome,  # type: ignore[arg-type]
            type=outcome if score is not None else None,  # type: ignore[arg-type]
            score=score,
            regions={part: decision.as_region() for part, decision in decisions.items()},
            rule=self.rule,  # type: ignore[arg-type]
            threshold=self.threshold,
            width=image.width,
            height=image.height,
            model=ServedModel(**self.model_info, trained=self.trained),
        ).model_dump(mode="json")
