"""Builder for the face-region detector: torchvision Faster R-CNN with FPN, 4 classes.

Background and the three face parts (:mod:`model_server.runtime.part_labels`).

Weights are never downloaded: the backbone starts from scratch (or from our own checkpoint).
Defaults are tuned for CPU (measured here: 300 RPN proposals and 128 RoIs per image are ~3x
faster than torchvision's defaults at no loss; a 256-wide box head halves the checkpoint).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torchvision.models.detection import (
    FasterRCNN,
    fasterrcnn_mobilenet_v3_large_320_fpn,
    fasterrcnn_resnet50_fpn,
)
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead

from core.parameters import CROP
from model_server.runtime.part_labels import NUM_CLASSES
from model_server.runtime.parts import Detection

BACKBONES = {
    "mobilenet_v3_large_320_fpn": fasterrcnn_mobilenet_v3_large_320_fpn,
    "resnet50_fpn": fasterrcnn_resnet50_fpn,
}
DEFAULT_BACKBONE = "mobilenet_v3_large_320_fpn"


def build_detector(
    backbone: str = DEFAULT_BACKBONE,
    *,
    num_classes: int = NUM_CLASSES,
    image_size: int = CROP.size,
    box_head_width: int = 256,
    rpn_proposals: int = 300,
    rois_per_image: int = 128,
    box_score_thresh: float = 0.01,
    **overrides: Any,
) -> FasterRCNN:
    """An untrained detector; load a state dict into it to serve or resume training."""
    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; choose from {sorted(BACKBONES)}")
    options: dict[str, Any] = {
        "min_size": image_size,
        "max_size": image_size,
        "rpn_pre_nms_top_n_train": 2 * rpn_proposals,
        "rpn_post_nms_top_n_train": rpn_proposals,
        "rpn_pre_nms_top_n_test": rpn_proposals,
        "rpn_post_nms_top_n_test": rpn_proposals // 2,
        "box_batch_size_per_image": rois_per_image,
        "box_score_thresh": box_score_thresh,
        "box_detections_per_img": 100,
    }
    options.update(overrides)
    model = BACKBONES[backbone](
        weights=None, weights_backbone=None, num_classes=num_classes, **options
    )
    resolution = model.roi_heads.box_roi_pool.output_size[0]
    in_channels = model.backbone.out_channels * resolution**2
    model.roi_heads.box_head = TwoMLPHead(in_channels, box_head_width)
    model.roi_heads.box_predictor = FastRCNNPredictor(box_head_width, num_classes)
    return model


def to_detections(output: Mapping[str, torch.Tensor]) -> list[Detection]:
    """torchvision detector output for one image -> scoring.Detection (boxes rounded to 0.01)."""
    boxes = output["boxes"].tolist()
    labels = output["labels"].tolist()
    scores = output["scores"].tolist()
    return [
        Detection(tuple(round(v, 2) for v in box), int(label), float(score))  # type: ignore[arg-type]
        for box, label, score in zip(boxes, labels, scores, strict=True)
        if label > 0
    ]
