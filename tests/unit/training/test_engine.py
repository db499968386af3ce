"""AP and the evaluation loop (served rule) on a fake detector."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from model_server.runtime.labels import encode_label
from model_server.training.engine import average_precision, evaluate, warmup_cosine

GT = torch.tensor(
    [[20.0, 20.0, 300.0, 300.0], [80.0, 80.0, 240.0, 160.0], [70.0, 160.0, 250.0, 290.0]]
)


class Oracle(nn.Module):
    """Returns the ground-truth boxes with the given type and score, plus a stray box."""

    def __init__(self, type_index: int, score: float) -> None:
        super().__init__()
        self.type_index, self.score = type_index, score

    def forward(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        labels = [encode_label(self.type_index, p) for p in range(3)] + [encode_label(0, 1)]
        boxes = torch.cat([GT, torch.tensor([[0.0, 0.0, 30.0, 30.0]])])
        scores = torch.tensor([self.score] * 3 + [0.05])
        return [{"boxes": boxes, "labels": torch.tensor(labels), "scores": scores} for _ in images]


def loader(type_index: int, n: int = 4) -> list:
    target = {
        "boxes": GT,
        "labels": torch.tensor([encode_label(type_index, p) for p in range(3)]),
        "image_id": torch.tensor(1),
    }
    return [([torch.zeros(3, 320, 320)] * n, [target] * n)]


def test_average_precision() -> None:
    assert average_precision([(0.9, True), (0.8, True)], 2) == pytest.approx(1.0)
    assert average_precision([(0.9, False), (0.8, True)], 1) == pytest.approx(0.5)
    assert average_precision([(0.9, True)], 2) == pytest.approx(0.5)
    assert average_precision([], 3) == 0.0


def test_evaluate_perfect_detector() -> None:
    m = evaluate(Oracle(2, 0.95), loader(2), torch.device("cpu"), majority_type=0)
    assert m["ap50"] == {"face": 1.0, "t_zone": 1.0, "jaw": 1.0}
    assert m["all_parts_found"] == {"summed": 1.0, "single": 1.0}
    assert m["type_accuracy"] == 1.0 and m["majority_baseline"]["accuracy"] == 0.0
    assert m["confusion"]["counts"][2][2] == 4


def test_evaluate_hesitant_detector_uses_the_served_rule() -> None:
    # 0.5 per box: the single-class 0.75 rule misses every part; summed over two overlapping
    # type classes (0.5 + 0.5 >= 0.75) the served rule finds them.
    class Hesitant(Oracle):
        def forward(self, images):  # type: ignore[no-untyped-def]
            out = super().forward(images)
            for o in out:
                o["boxes"] = torch.cat([o["boxes"][:3], o["boxes"][:3]])
                o["labels"] = torch.tensor([encode_label(t, p) for t in (1, 3) for p in range(3)])
                o["scores"] = torch.full((6,), 0.5)
            return out

    m = evaluate(Hesitant(0, 0.5), loader(1), torch.device("cpu"), majority_type=1)
    assert m["all_parts_found"] == {"summed": 1.0, "single": 0.0}
    assert m["ap50"]["face"] == 1.0  # duplicates across types are pooled, not false positives


def test_warmup_cosine() -> None:
    f = warmup_cosine(100, 10)
    assert f(0) < 0.01 and f(10) == pytest.approx(1.0) and f(100) == pytest.approx(0.0)
