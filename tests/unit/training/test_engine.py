"""AP and the evaluation loop (served rule) on a fake detector."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from model_server.runtime.part_labels import encode_label
from model_server.training.face_regions.engine import (
    average_precision,
    evaluate,
    false_parts,
    warmup_cosine,
)

GT = torch.tensor(
    [[20.0, 20.0, 300.0, 300.0], [80.0, 80.0, 240.0, 160.0], [70.0, 160.0, 250.0, 290.0]]
)


class Oracle(nn.Module):
    """Returns the ground-truth boxes with the given score, plus a stray low-scoring box."""

    def __init__(self, score: float) -> None:
        super().__init__()
        self.score = score

    def forward(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        labels = [encode_label(p) for p in range(3)] + [encode_label(1)]
        boxes = torch.cat([GT, torch.tensor([[0.0, 0.0, 30.0, 30.0]])])
        scores = torch.tensor([self.score] * 3 + [0.05])
        return [{"boxes": boxes, "labels": torch.tensor(labels), "scores": scores} for _ in images]


def loader(n: int = 4) -> list:
    target = {
        "boxes": GT,
        "labels": torch.tensor([encode_label(p) for p in range(3)]),
        "image_id": torch.tensor(1),
    }
    return [([torch.zeros(3, 320, 320)] * n, [target] * n)]


def test_average_precision() -> None:
    assert average_precision([(0.9, True), (0.8, True)], 2) == pytest.approx(1.0)
    assert average_precision([(0.9, False), (0.8, True)], 1) == pytest.approx(0.5)
    assert average_precision([(0.9, True)], 2) == pytest.approx(0.5)
    assert average_precision([], 3) == 0.0


def test_evaluate_perfect_detector() -> None:
    m = evaluate(Oracle(0.95), loader(), torch.device("cpu"))
    assert m["ap50"] == {"face": 1.0, "t_zone": 1.0, "jaw": 1.0}
    assert m["all_parts_found"] == 1.0 and m["images"] == 4
    assert m["found_box_iou"] == {"face": 1.0, "t_zone": 1.0, "jaw": 1.0}


def test_evaluate_uses_the_served_threshold() -> None:
    """Boxes in the right places below 0.75 are ranked (AP) but not found (served rule)."""
    m = evaluate(Oracle(0.5), loader(), torch.device("cpu"))
    assert m["ap50"]["face"] == 1.0 and m["all_parts_found"] == 0.0
    assert (
        evaluate(Oracle(0.5), loader(), torch.device("cpu"), threshold=0.4)["all_parts_found"]
        == 1.0
    )


def test_false_parts_counts_face_free_images_with_any_part() -> None:
    images = [torch.zeros(3, 320, 320)] * 2
    assert false_parts(Oracle(0.9), images) == 1.0
    assert false_parts(Oracle(0.5), images) == 0.0


def test_warmup_cosine() -> None:
    f = warmup_cosine(100, 10)
    assert f(0) < 0.01 and f(10) == pytest.approx(1.0) and f(100) == pytest.approx(0.0)
