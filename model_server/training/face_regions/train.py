"""``python -m model_server.training train``: the part detector (Faster R-CNN with FPN).

Follows torchvision's references/detection: ``get_args_parser()`` + ``main(args)``, seeded,
resumable (``--resume``), tqdm progress, a full-state ``checkpoint.pth`` each epoch and, at the
end, the fp16 serving checkpoint, its evaluation on unseen people (:mod:`.evaluate`) and
(``--card``) the detector's model card.
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.dataset import default_dataset_dir
from core.parameters import CROP, PART_THRESHOLD
from core.taxonomy import PARTS
from model_server.cards.detector_card import write_detector_card
from model_server.paths import REPO_ROOT, TRAINING_WORK_DIR
from model_server.runtime.checkpoint import save_checkpoint
from model_server.runtime.part_labels import NUM_CLASSES
from model_server.runtime.region_detector import BACKBONES, DEFAULT_BACKBONE, build_detector
from model_server.training.face_regions.data import (
    AUTOLABELS,
    FaceRegions,
    TrainingData,
    collate,
    load_data,
)
from model_server.training.face_regions.engine import train_one_epoch, warmup_cosine
from model_server.training.face_regions.evaluate import run_evaluation
from model_server.training.face_regions.transforms import PERTURBATIONS, PRESETS, get_transform
from model_server.training.face_type import ratings
from model_server.training.london import ATTRIBUTION


# ----------------------------------------------------------------------------- arguments
def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Train the face-region detector", add_help=add_help)
    _data_args(p)
    _model_args(p)
    _optimisation_args(p)
    _run_args(p)
    return p


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--labels", type=Path, default=ratings.LABELS)
    p.add_argument("--autolabels", type=Path, default=AUTOLABELS)
    p.add_argument(
        "--within", choices=("sex", "all"), default="sex", help="rank faces within sex or overall"
    )
    p.add_argument("--test-people", type=int, default=16, help="people held out (split by person)")
    p.add_argument(
        "--limit-people", type=int, default=0, help="train on this many people only (smoke tests)"
    )
    p.add_argument(
        "--negatives", type=float, default=0.25, help="face-free crops, as a share of the photos"
    )


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backbone", choices=sorted(BACKBONES), default=DEFAULT_BACKBONE)
    p.add_argument("--image-size", type=int, default=CROP.size)
    p.add_argument("--box-head-width", type=int, default=256)
    p.add_argument("--rpn-proposals", type=int, default=300)
    p.add_argument("--rois-per-image", type=int, default=128)


def _optimisation_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--warmup-iters", type=int, default=100)
    p.add_argument(
        "--aug", choices=sorted(PRESETS), default="train", help="training transform preset"
    )
    p.add_argument(
        "--max-iters",
        type=int,
        default=0,
        help="stop each epoch after this many steps (smoke tests)",
    )


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output-dir", type=Path, default=TRAINING_WORK_DIR / "run")
    p.add_argument(
        "--weights-out",
        type=Path,
        default=None,
        help="fp16 checkpoint (default OUTPUT_DIR/face_regions.pt)",
    )
    p.add_argument(
        "--eval-dir", type=Path, default=None, help="evaluation outputs (default OUTPUT_DIR/eval)"
    )
    p.add_argument("--card", type=Path, default=None, help="write the model card here")
    p.add_argument(
        "--perturbations", default=",".join(PERTURBATIONS), help="comma list, '' for none"
    )
    p.add_argument("--no-eval", action="store_true")
    p.add_argument("--threshold", type=float, default=PART_THRESHOLD, help="served part threshold")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument(
        "--amp",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="mixed precision (default: on GPU)",
    )
    p.add_argument(
        "--resume",
        default="",
        help="checkpoint.pth to resume, or 'auto' (OUTPUT_DIR/checkpoint.pth if present)",
    )


# ----------------------------------------------------------------------------- the run
def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def save_serving_checkpoint(
    path: Path, model: torch.nn.Module, *, backbone: str, image_size: int, meta: dict[str, Any]
) -> None:
    """fp16 serving checkpoint (:func:`model_server.runtime.checkpoint.save_checkpoint`)."""
    save_checkpoint(path, model, backbone=backbone, image_size=image_size, meta=meta, half=True)


@dataclass
class Run:
    """The model, its optimisation and the run's progress: what a resumable checkpoint holds."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler | None
    generator: torch.Generator
    start_epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    train_seconds: float = 0.0

    def save(self, path: Path, epoch: int, args: argparse.Namespace) -> None:
        torch.save(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict() if self.scaler is not None else None,
                "epoch": epoch,
                "history": self.history,
                "train_seconds": self.train_seconds,
                "generator": self.generator.get_state(),
                "torch_rng": torch.get_rng_state(),
                "py_rng": random.getstate(),
                "args": {k: v for k, v in vars(args).items() if not callable(v)},
            },
            path,
        )

    def resume(self, path: Path) -> None:
        state = torch.load(path, map_location="cpu", weights_only=False)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.start_epoch = state["epoch"] + 1
        self.history, self.train_seconds = state["history"], state["train_seconds"]
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        random.setstate(state["py_rng"])
        print(f"resumed from {path} at epoch {self.start_epoch}")


def detector_options(args: argparse.Namespace) -> dict[str, int]:
    return {
        "box_head_width": args.box_head_width,
        "rpn_proposals": args.rpn_proposals,
        "rois_per_image": args.rois_per_image,
    }


def make_loader(
    args: argparse.Namespace, data: TrainingData, generator: torch.Generator
) -> torch.utils.data.DataLoader:
    return torch.utils.data.DataLoader(
        FaceRegions(data.samples, get_transform(args.aug)),
        batch_size=args.batch_size,
        shuffle=True,
        generator=generator,
        num_workers=args.workers,
        collate_fn=collate,
        drop_last=len(data.samples) > args.batch_size,
    )


def make_run(
    args: argparse.Namespace, device: torch.device, iters_per_epoch: int, generator: torch.Generator
) -> Run:
    model = build_detector(args.backbone, image_size=args.image_size, **detector_options(args))
    model = model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        warmup_cosine(
            args.epochs * iters_per_epoch,
            min(args.warmup_iters, iters_per_epoch * args.epochs // 4 or 1),
        ),
    )
    amp = device.type == "cuda" if args.amp is None else args.amp
    scaler = torch.amp.GradScaler(device.type) if amp else None
    return Run(model, optimizer, scheduler, scaler, generator)


def resume_path(args: argparse.Namespace) -> Path | None:
    if args.resume == "auto":
        return args.output_dir / "checkpoint.pth"
    return Path(args.resume) if args.resume else None


def train(args: argparse.Namespace, run: Run, loader: Any, device: torch.device) -> None:
    """Epochs from where the run stands; a resumable checkpoint after each."""
    for epoch in range(run.start_epoch, args.epochs):
        t0 = time.time()
        losses = train_one_epoch(
            run.model,
            run.optimizer,
            loader,
            device,
            epoch,
            scheduler=run.scheduler,
            scaler=run.scaler,
            max_iters=args.max_iters or None,
        )
        seconds = time.time() - t0
        run.train_seconds += seconds
        loss = float(np.mean(losses))
        run.history.append(
            {"epoch": epoch, "loss": loss, "losses": losses, "seconds": round(seconds, 1)}
        )
        print(
            f"epoch {epoch}: loss {loss:.4f} ({seconds:.0f} s, "
            f"total {run.train_seconds / 60:.1f} min)",
            flush=True,
        )
        run.save(args.output_dir / "checkpoint.pth", epoch, args)


def training_meta(
    args: argparse.Namespace, data: TrainingData, run: Run, device: torch.device
) -> dict[str, Any]:
    """What the serving checkpoint says about how it was made."""
    history = run.history
    return {
        "task": "face_regions",
        "num_classes": NUM_CLASSES,
        "parts": list(PARTS),
        "detector": detector_options(args),
        "crop": {"size": args.image_size, "margin": data.coco["images"][0]["crop"]["margin"]},
        "labels": {"ranked_within": args.within, "shares": list(ratings.SEED_SHARES)},
        "split": {"seed": args.seed, "train": data.train_people, "test": data.test_people},
        "training": {
            "epochs": args.epochs,
            "iterations": sum(len(h["losses"]) for h in history),
            "batch_size": args.batch_size,
            "lr": args.lr,
            "aug": args.aug,
            "device": str(device),
            "threads": args.threads,
            "minutes": round(run.train_seconds / 60, 1),
            "final_loss": round(history[-1]["loss"], 4) if history else None,
        },
        "dataset": {"name": "Face Research Lab London Set", "attribution": ATTRIBUTION},
        "autolabel_check": data.coco.get("check"),
        "command": "python -m model_server.training train "
        + " ".join(shlex.quote(a) for a in sys.argv[2:]),
    }


def evaluate_run(
    args: argparse.Namespace, data: TrainingData, weights: Path, meta: dict[str, Any]
) -> None:
    """The exported checkpoint on the held-out people; its figures go into ``meta``."""
    eval_dir = args.eval_dir or args.output_dir / "eval"
    perturbations = [p for p in args.perturbations.split(",") if p]
    results = run_evaluation(
        weights,
        data.dataset_dir,
        data.coco,
        data.types,
        eval_dir,
        perturbations,
        args.threshold,
        args.output_dir / "overlays",
    )
    meta["metrics"] = {
        k: {m: v for m, v in r.items() if m != "predictions"} for k, r in results.items()
    }
    meta["eval_dir"] = _rel(eval_dir)


def main(args: argparse.Namespace) -> dict[str, Any]:
    """Train, export the fp16 checkpoint, evaluate; returns the run summary."""
    started = time.time()
    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    device = torch.device(args.device)
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    weights_out = args.weights_out or out / "face_regions.pt"
    data = load_data(args)

    generator = torch.Generator().manual_seed(args.seed)
    loader = make_loader(args, data, generator)
    iters_per_epoch = min(len(loader), args.max_iters) if args.max_iters else len(loader)
    run = make_run(args, device, iters_per_epoch, generator)
    if (resume := resume_path(args)) is not None and resume.exists():
        run.resume(resume)
    train(args, run, loader, device)

    meta = training_meta(args, data, run, device)

    def export() -> None:
        save_serving_checkpoint(
            weights_out, run.model, backbone=args.backbone, image_size=args.image_size, meta=meta
        )

    summary: dict[str, Any] = {
        "weights": str(weights_out),
        "history": [h["loss"] for h in run.history],
        "meta": meta,
    }
    export()  # evaluation reads the exported fp16 checkpoint: it measures what is served
    if not args.no_eval:
        evaluate_run(args, data, weights_out, meta)
        summary["metrics"] = meta["metrics"]
    meta["wall_minutes"] = round((time.time() - started) / 60, 1)
    export()  # again, now with the evaluation and the wall time in its meta
    if args.card:
        write_detector_card(args.card, {**meta, "backbone": args.backbone}, weights_out)
    saved = {k: v for k, v in summary.items() if k != "history"}
    (out / "summary.json").write_text(json.dumps(saved, indent=1, default=str))
    print(f"weights -> {weights_out} ({weights_out.stat().st_size / 1e6:.1f} MB)")
    return summary


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
