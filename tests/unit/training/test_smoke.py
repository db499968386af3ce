"""CI smoke test: a few iterations on a handful of London photos; loss goes down, a checkpoint,
its evaluation and a face_regions archive come out."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import pytest
import torch

from model_server.checkpoint import load_checkpoint
from model_server.training import autolabel as al
from model_server.training.cli import cmd_archive, get_args_parser, main


@pytest.mark.dataset
@pytest.mark.slow
def test_train_smoke(dataset_dir: Path, tmp_path: Path) -> None:
    images = sorted((dataset_dir / "images").glob("*.jpg"))[:10]  # 5 people, 2 photos each
    autolabels = tmp_path / "autolabels.json"
    al.save_json(al.autolabel_images(images), autolabels)
    weights = tmp_path / "face_regions.pt"
    args = get_args_parser().parse_args(
        [
            "--dataset-dir", str(dataset_dir),
            "--labels", str(tmp_path / "labels.json"),
            "--autolabels", str(autolabels),
            "--output-dir", str(tmp_path / "run"),
            "--weights-out", str(weights),
            "--card", str(tmp_path / "MODEL_CARD.md"),
            "--test-people", "2",
            "--epochs", "4", "--batch-size", "2",
            "--warmup-iters", "2", "--aug", "none", "--perturbations", "blur",
            "--threads", str(min(2, torch.get_num_threads())),
        ]
    )  # fmt: skip
    summary = main(args)

    losses = json.loads(json.dumps(summary["meta"]["training"]))
    assert losses["iterations"] == 12
    history = torch.load(tmp_path / "run" / "checkpoint.pth", weights_only=False)["history"]
    steps = [loss for epoch in history for loss in epoch["losses"]]  # 4 epochs x 3 steps
    assert sum(steps[-3:]) / 3 < sum(steps[:3]) / 3, steps  # loss goes down

    ckpt = load_checkpoint(weights)
    assert ckpt.backbone == "mobilenet_v3_large_320_fpn" and ckpt.image_size == 320
    assert set(ckpt.meta["split"]["test"]).isdisjoint(ckpt.meta["split"]["train"])
    assert ckpt.meta["metrics"]["clean"]["images"] == 4
    assert (
        torch.load(weights, weights_only=True)["model"]["roi_heads.box_head.fc6.weight"].dtype
        == torch.float16
    )
    assert (tmp_path / "run" / "eval" / "confusion.png").stat().st_size > 0
    assert "Reproduce" in (tmp_path / "MODEL_CARD.md").read_text()

    if importlib.util.find_spec("model_server.archive") is None:
        pytest.skip("model_server.archive not in this tree yet: archive step not checked")
    store = tmp_path / "store"
    rc = cmd_archive(
        argparse.Namespace(checkpoint=weights, version="0.0.1", store=store, model_card=None)
    )
    assert rc == 0
    assert list(store.glob("face_regions*.mar")), list(store.iterdir())
