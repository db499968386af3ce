"""``train_one_epoch`` and ``evaluate`` (torchvision references style).

Evaluation uses the served rule (:func:`model_server.runtime.parts.decide_parts`) for "all
three parts found", and AP@0.5 per part for the boxes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn
from torchvision.ops import box_iou, nms
from tqdm import tqdm

from core.parameters import PART_THRESHOLD
from core.taxonomy import PARTS
from model_server.runtime.part_labels import decode_label
from model_server.runtime.parts import decide_parts
from model_server.runtime.region_detector import to_detections


def warmup_cosine(total_iters: int, warmup_iters: int) -> Any:
    """LambdaLR factor: linear warm-up, then cosine decay to 0."""

    def factor(it: int) -> float:
        if it < warmup_iters:
            return 0.001 + (1 - 0.001) * it / max(1, warmup_iters)
        progress = (it - warmup_iters) / max(1, total_iters - warmup_iters)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return factor


def train_one_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loader: Iterable[Any],
    device: torch.device,
    epoch: int,
    *,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    scaler: torch.amp.GradScaler | None = None,
    max_iters: int | None = None,
    clip_grad: float = 10.0,
) -> list[float]:
    """One pass over ``loader`` (at most ``max_iters`` steps); returns the loss of each step."""
    model.train()
    losses: list[float] = []
    total = len(loader) if hasattr(loader, "__len__") else None  # type: ignore[arg-type]
    if max_iters is not None and total is not None:
        total = min(total, max_iters)
    bar = tqdm(loader, total=total, desc=f"epoch {epoch}", unit="it", leave=False)
    for step, (images, targets) in enumerate(bar):
        if max_iters is not None and step >= max_iters:
            break
        images = [img.to(device) for img in images]
        targets = [{k: v.to(device) for k, v in t.items()} for t in targets]
        with torch.autocast(device.type, enabled=scaler is not None):
            loss_dict = model(images, targets)
            loss = sum(loss_dict.values())
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"loss is {loss.item()}: {loss_dict}")
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
        bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{optimizer.param_groups[0]['lr']:.2e}")
    bar.close()
    return losses


def average_precision(scored: Sequence[tuple[float, bool]], num_ground_truth: int) -> float:
    """VOC all-point interpolated AP from (score, is_true_positive) pairs."""
    if num_ground_truth == 0:
        return float("nan")
    ordered = sorted(scored, key=lambda st: -st[0])
    tp = fp = 0
    recalls, precisions = [0.0], [1.0]
    for _, hit in ordered:
        tp, fp = tp + hit, fp + (not hit)
        recalls.append(tp / num_ground_truth)
        precisions.append(tp / (tp + fp))
    for i in range(len(precisions) - 2, -1, -1):
        precisions[i] = max(precisions[i], precisions[i + 1])
    return sum((recalls[i] - recalls[i - 1]) * precisions[i] for i in range(1, len(recalls)))


def part_matches(
    output: dict[str, torch.Tensor], gt_boxes: torch.Tensor, iou_threshold: float = 0.5
) -> dict[str, list[tuple[float, bool]]]:
    """Per part: (score, hit) of each detection after class-agnostic NMS within the part."""
    result: dict[str, list[tuple[float, bool]]] = {}
    parts = torch.tensor([decode_label(int(lab)) for lab in output["labels"]], dtype=torch.long)
    for p, part in enumerate(PARTS):
        mask = parts == p if len(parts) else torch.zeros(0, dtype=torch.bool)
        boxes, scores = output["boxes"][mask], output["scores"][mask]
        keep = nms(boxes, scores, 0.5)
        boxes, scores = boxes[keep], scores[keep]
        hits = []
        matched = False
        ious = box_iou(boxes, gt_boxes[p : p + 1])[:, 0] if len(boxes) else torch.zeros(0)
        for score, overlap in zip(scores.tolist(), ious.tolist(), strict=True):
            hit = overlap >= iou_threshold and not matched
            matched = matched or hit
            hits.append((score, hit))
        result[part] = hits
    return result


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    loader: Iterable[Any],
    device: torch.device,
    *,
    threshold: float = PART_THRESHOLD,
    iou_threshold: float = 0.5,
    desc: str = "evaluate",
) -> dict[str, Any]:
    """Metrics on ``loader`` plus each image's predictions (``"predictions"``)."""
    model.eval()
    scored: dict[str, list[tuple[float, bool]]] = {p: [] for p in PARTS}
    box_ious: dict[str, list[float]] = {p: [] for p in PARTS}
    found = 0
    predictions: list[dict[str, Any]] = []
    n = 0
    for images, targets in tqdm(loader, desc=desc, unit="batch", leave=False):
        outputs = model([img.to(device) for img in images])
        for output, target in zip(outputs, targets, strict=True):
            output = {
                k: v.float().cpu() if v.is_floating_point() else v.cpu() for k, v in output.items()
            }
            for part, hits in part_matches(output, target["boxes"], iou_threshold).items():
                scored[part].extend(hits)
            decisions = decide_parts(to_detections(output), threshold)
            found += all(d.found for d in decisions.values())
            for p, part in enumerate(PARTS):
                d = decisions[part]
                if d.found and d.box is not None:
                    gt = target["boxes"][p].tolist()
                    box_ious[part].append(float(box_iou(torch.tensor([d.box]), torch.tensor([gt]))))
            predictions.append(
                {
                    "image_id": int(target["image_id"]),
                    "complete": all(d.found for d in decisions.values()),
                    "parts": {
                        part: decision.as_region().model_dump(mode="json")
                        for part, decision in decisions.items()
                    },
                    "gt_boxes": target["boxes"].tolist(),
                }
            )
            n += 1
    ap = {p: average_precision(scored[p], n) for p in PARTS}
    return {
        "images": n,
        "ap50": {p: round(v, 4) for p, v in ap.items()},
        "map50": round(sum(ap.values()) / len(ap), 4),
        "all_parts_found": round(found / max(1, n), 4),
        "found_box_iou": {p: round(sum(v) / len(v), 4) if v else None for p, v in box_ious.items()},
        "threshold": threshold,
        "predictions": predictions,
    }


@torch.inference_mode()
def false_parts(
    model: nn.Module, images: Sequence[torch.Tensor], threshold: float = PART_THRESHOLD
) -> float:
    """Share of face-free images on which the served rule finds any part (lower is better)."""
    model.eval()
    found = 0
    for image in images:
        decisions = decide_parts(to_detections(model([image])[0]), threshold)
        found += any(d.found for d in decisions.values())
    return round(found / max(1, len(images)), 4)
