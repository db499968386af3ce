"""CI smoke test of the training pipeline: it must learn the parts, not merely lower a loss.

A handful of London photos are overfitted (no augmentation); on those same photos the trained
checkpoint must find the labelled parts far better than two controls that know nothing about
them. Then the ``.mar`` that ``archive`` builds is served, from its extracted files, by the
real ``FaceRegionsHandler``.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from core.taxonomy import PARTS
from model_server.runtime.checkpoint import load_checkpoint, make_untrained_checkpoint
from model_server.runtime.handlers.face_regions import FaceRegionsHandler
from model_server.tools.worker_context import local_context
from model_server.training.face_regions import autolabel as al
from model_server.training.face_regions.cli import archive
from model_server.training.face_regions.data import FaceRegions, Sample, collate, load_samples
from model_server.training.face_regions.engine import evaluate
from model_server.training.face_regions.train import get_args_parser, main
from model_server.training.face_regions.transforms import get_transform
from model_server.training.face_type import ratings

PHOTOS = 6  # 3 people x (neutral, smiling): 2 people (4 photos) train, 1 person held out
EPOCHS = 50  # x 2 steps of 2 photos = 100 iterations (see the margins below)
VERSION = "0.0.1"


def score(model: torch.nn.Module, samples: list[Sample]) -> dict[str, Any]:
    """The training CLI's evaluation (``engine.evaluate``) of ``model`` on ``samples``."""
    loader = torch.utils.data.DataLoader(
        FaceRegions(samples, get_transform("eval")), batch_size=4, collate_fn=collate
    )
    return evaluate(model, loader, torch.device("cpu"))


def parts_rolled(samples: list[Sample]) -> list[Sample]:
    """Each part labelled with the next part's box (face <- T-zone <- jaw <- face)."""
    return [dataclasses.replace(s, boxes=s.boxes[1:] + s.boxes[:1]) for s in samples]


def served_handler(mar: Path, into: Path) -> FaceRegionsHandler:
    """The handler initialised, as TorchServe would, from the extracted archive: its manifest,
    its model-config yaml and its serialized checkpoint."""
    with zipfile.ZipFile(mar) as archive:
        archive.extractall(into)
    manifest = json.loads((into / "MAR-INF" / "MANIFEST.json").read_text())
    config = yaml.safe_load((into / manifest["model"]["configFile"]).read_text())
    context = local_context("face_regions", into, config)
    context.manifest = manifest
    handler = FaceRegionsHandler()
    handler.initialize(context)
    return handler


@pytest.mark.dataset
@pytest.mark.slow
def test_train_smoke(dataset_dir: Path, tmp_path: Path, torch_threads: int) -> None:
    images = sorted((dataset_dir / "images").glob("*.jpg"))[:PHOTOS]
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
            "--test-people", "1",
            "--epochs", str(EPOCHS), "--batch-size", "2",
            "--warmup-iters", "5", "--aug", "none", "--perturbations", "blur",
            "--negatives", "0",
            "--threads", str(torch_threads),
        ]
    )  # fmt: skip
    summary = main(args)

    ckpt = load_checkpoint(weights)
    meta = ckpt.meta
    assert meta["training"]["iterations"] == 2 * EPOCHS
    assert summary["history"][-1] < summary["history"][0], summary["history"]  # epoch mean loss
    assert ckpt.backbone == "mobilenet_v3_large_320_fpn" and ckpt.image_size == 320
    assert set(meta["split"]["test"]).isdisjoint(meta["split"]["train"])
    assert set(meta["metrics"]) == {"clean", "blur"}
    assert meta["metrics"]["clean"]["images"] == 2  # the held-out person's two photos
    assert (
        torch.load(weights, weights_only=True)["model"]["roi_heads.box_head.fc6.weight"].dtype
        == torch.float16
    )
    assert (tmp_path / "run" / "overlays" / "overlay.png").stat().st_size > 0
    blank = meta["metrics"]["clean"]["false_parts_on_blank"]  # a share of 64 face-free crops
    assert 0 <= blank <= 1 and abs(blank - round(blank * 64) / 64) < 1e-4
    assert "Reproduce" in (tmp_path / "MODEL_CARD.md").read_text()

    # Learning, not noise: score the photos it was trained on against two controls.
    coco = json.loads(autolabels.read_text())
    types = ratings.load_labels(tmp_path / "labels.json")
    seen = load_samples(dataset_dir, coco, types, people=set(meta["split"]["train"]))
    assert len(seen) == 4
    model = ckpt.build_model()
    trained = score(model, seen)
    untrained = score(
        load_checkpoint(make_untrained_checkpoint(tmp_path / "untrained.pt")).build_model(), seen
    )
    permuted = score(model, parts_rolled(seen))
    figures = {
        name: (r["map50"], r["all_parts_found"])
        for name, r in (("trained", trained), ("untrained", untrained), ("permuted", permuted))
    }
    print("(mAP@0.5, all parts found) on the training photos:", figures)
    # Margins. Measured with this recipe at 100 iterations (seeds 0-4, which also change the
    # split; 2 threads): trained mAP@0.5 1.0 (and all parts found on every photo); untrained
    # mAP <= 0.01; the trained model against rolled part boxes mAP <= 0.09 (the face box still
    # overlaps the T-zone's and the jaw's a little). Learning only the background scores 0 (60
    # iterations did exactly that: loss 3.8 -> 0.6 and not one detection, which the former
    # loss-only check passed). The score rises as a cliff, not gently: at 80 iterations mAP was
    # 0.57-0.96, at 90 (seed 0) already 1.0. So the floors sit midway between the two sides:
    # mAP >= 0.5, and >= 0.3 above either control. "All parts found" (best box >= 0.75)
    # comes later on that cliff (0 % at 80 iterations) and is not asserted here: too close to
    # the edge to be stable across CPUs; test_committed_model holds the served model to it.
    assert trained["map50"] >= 0.5, figures
    assert trained["map50"] >= untrained["map50"] + 0.3, figures
    assert trained["map50"] >= permuted["map50"] + 0.3, figures

    # The archive serves these weights through the real handler.
    store = tmp_path / "store"
    rc = archive(
        argparse.Namespace(checkpoint=weights, version=VERSION, store=store, model_card=None)
    )
    assert rc == 0
    handler = served_handler(store / f"face_regions-{VERSION}.mar", tmp_path / "mar")
    served = handler.model.state_dict()
    differing = [k for k, v in ckpt.state_dict.items() if not torch.equal(served[k], v)]
    assert not differing, f"the archive serves other weights: {len(differing)} tensors differ"
    sample = seen[0]
    png = io.BytesIO()
    sample.crop.save(png, "PNG")  # lossless: the pixels the evaluation above saw
    [answer] = handler.handle([{"data": png.getvalue()}], handler.context)
    assert set(answer["regions"]) == set(PARTS)
    assert answer["model"] == {"name": "face_regions", "version": VERSION, "trained": True}
    assert (answer["width"], answer["height"]) == sample.crop.size == (320, 320)
    # Same weights, preprocessing and rule as the evaluation: the same best-box score per part
    # (the handler runs one thread; 0.05 absorbs kernel differences, not a wrong input scale).
    expected = next(p for p in trained["predictions"] if p["image_id"] == sample.image_id)
    for part in PARTS:
        got, want = answer["regions"][part]["presence"], expected["parts"][part]["presence"]
        assert got == pytest.approx(want, abs=0.05), (part, answer["regions"], expected["parts"])
