"""``python -m model_server.training evaluate``: a serving checkpoint on its held-out people.

The clean crops and each fixed perturbation (:data:`.transforms.PERTURBATIONS`) through
:func:`.engine.evaluate` (AP@0.5 per part, "all three parts found" under the served rule), the
share of face-free crops with a part found, a metrics JSON and prediction overlays (under
``var/``: they show the dataset's faces).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from matplotlib import patches
from PIL import Image
from torchvision.transforms.functional import to_tensor

from core.dataset import default_dataset_dir
from core.parameters import PART_THRESHOLD
from model_server.paths import TRAINING_WORK_DIR, VAR_DIR, WEIGHTS_DIR
from model_server.runtime.checkpoint import load_checkpoint
from model_server.training import london
from model_server.training.face_regions.data import (
    AUTOLABELS,
    FaceRegions,
    Sample,
    collate,
    ensure_autolabels,
    ensure_labels,
    load_samples,
    negative_samples,
)
from model_server.training.face_regions.engine import evaluate, false_parts
from model_server.training.face_regions.transforms import PERTURBATIONS, get_transform
from model_server.training.face_type import ratings

DEFAULT_WEIGHTS = WEIGHTS_DIR / "face_regions.pt"
OVERLAY_DIR = VAR_DIR / "eval"
PART_COLOURS = {"face": "#1f77b4", "t_zone": "#2ca02c", "jaw": "#d62728"}


def run_evaluation(
    weights: Path,
    dataset_dir: Path,
    coco: dict[str, Any],
    types: dict[str, int],
    eval_dir: Path,
    perturbations: list[str],
    threshold: float = PART_THRESHOLD,
    overlay_dir: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Clean and perturbed evaluation of a serving checkpoint on its held-out people."""
    ckpt = load_checkpoint(weights)
    model = ckpt.build_model()
    meta = ckpt.meta
    samples = load_samples(dataset_dir, coco, types, people=set(meta["split"]["test"]))
    results: dict[str, dict[str, Any]] = {}
    for name in ["clean", *perturbations]:
        preset = get_transform("eval" if name == "clean" else name)
        loader = torch.utils.data.DataLoader(
            FaceRegions(samples, preset), batch_size=4, collate_fn=collate
        )
        results[name] = evaluate(
            model,
            loader,
            torch.device("cpu"),
            threshold=threshold,
            desc=name,
        )
        r = results[name]
        print(
            f"{name:10s} AP50 {r['ap50']} all parts found {r['all_parts_found']:.3f}",
            flush=True,
        )
    clean = results["clean"]
    blanks = [to_tensor(s.crop) for s in negative_samples(64, meta["crop"]["size"], seed=12345)]
    clean["false_parts_on_blank"] = false_parts(model, blanks, threshold)
    print(f"face-free crops with a part found: {clean['false_parts_on_blank']:.3f}", flush=True)
    save_metrics(
        {
            "metrics": {
                k: {m: v for m, v in r.items() if m != "predictions"} for k, r in results.items()
            }
        },
        eval_dir / "metrics.json",
    )
    # Overlays show dataset faces: written under var/ only, never beside the committed weights.
    save_overlays(results, samples, overlay_dir or OVERLAY_DIR)
    return results


def save_overlays(
    results: Mapping[str, Mapping[str, Any]], samples: Sequence[Sample], overlays: Path
) -> None:
    """The first eight clean predictions over their crops, and the wild ones when evaluated."""
    shown = results["clean"]["predictions"][:8]
    by_id = {s.image_id: s.crop for s in samples}
    save_overlay([by_id[p["image_id"]] for p in shown], shown, overlays / "overlay.png")
    if "wild" in results:
        wild_preset = get_transform("wild")
        crops = []
        for p in results["wild"]["predictions"][:8]:
            s = next(s for s in samples if s.image_id == p["image_id"])
            img, _ = FaceRegions([s], wild_preset)[0]
            crops.append(img.permute(1, 2, 0).numpy())
        save_overlay(crops, results["wild"]["predictions"][:8], overlays / "overlay_wild.png")


def save_metrics(metrics: Mapping[str, Any], path: Path) -> None:
    """Metrics JSON without the per-image predictions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {k: v for k, v in metrics.items() if k != "predictions"}
    path.write_text(json.dumps(body, indent=1))


def save_overlay(
    crops: Sequence[Image.Image],
    predictions: Sequence[Mapping[str, Any]],
    path: Path,
    *,
    columns: int = 4,
) -> None:
    """Crops with ground truth (dashed) and found parts (solid, with their box score)."""
    rows = (len(crops) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.4 * rows), dpi=72)
    for ax in list(getattr(axes, "flat", [axes])):
        ax.axis("off")
    for ax, crop, pred in zip(getattr(axes, "flat", [axes]), crops, predictions, strict=False):
        ax.imshow(crop)
        for (part, colour), gt in zip(PART_COLOURS.items(), pred["gt_boxes"], strict=True):
            x1, y1, x2, y2 = gt
            ax.add_patch(
                patches.Rectangle(
                    (x1, y1), x2 - x1, y2 - y1, fill=False, ls="--", lw=0.8, ec=colour
                )
            )
            d = pred["parts"][part]
            if d["found"]:
                x1, y1, x2, y2 = d["box"]
                ax.add_patch(
                    patches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, lw=1.4, ec=colour)
                )
                ax.text(x1 + 2, y1 + 10, f"{d['presence']:.2f}", color=colour, fontsize=6)
        ax.set_title("all parts found" if pred["complete"] else "incomplete", fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    # Palette PNG keeps the overlay small.
    with Image.open(path) as img:
        img.convert("RGB").quantize(64).save(path, optimize=True)


# ----------------------------------------------------------------------------- the command
def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, add_help=add_help)
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--labels", type=Path, default=ratings.LABELS)
    p.add_argument("--autolabels", type=Path, default=AUTOLABELS)
    p.add_argument("--out", type=Path, default=TRAINING_WORK_DIR / "eval")
    p.add_argument("--perturbations", default=",".join(PERTURBATIONS))
    p.add_argument("--threshold", type=float, default=PART_THRESHOLD)
    p.add_argument("--threads", type=int, default=2)
    return p


def main(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    dataset_dir = london.require_dataset(args.dataset_dir)
    ckpt = load_checkpoint(args.checkpoint)
    types, _ = ensure_labels(dataset_dir, args.labels, ckpt.meta["labels"]["ranked_within"])
    coco = ensure_autolabels(dataset_dir, args.autolabels)
    perturbations = [p for p in args.perturbations.split(",") if p]
    run_evaluation(
        args.checkpoint, dataset_dir, coco, types, args.out, perturbations, args.threshold
    )
    print(f"evaluation -> {args.out}")
    return 0
