"""``python -m model_server.training {labels,autolabel,train,evaluate,archive}``.

``train`` follows torchvision's references/detection: ``get_args_parser()`` + ``main(args)``,
seeded, resumable (``--resume``), tqdm progress, a full-state ``checkpoint.pth`` each epoch and,
at the end, the fp16 serving checkpoint, its evaluation on unseen people and (``--card``) the
model card.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import shlex
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torchvision.transforms.functional import to_tensor

from core.taxonomy import PARTS
from model_server.runtime.checkpoint import load_checkpoint, save_checkpoint
from model_server.runtime.part_labels import NUM_CLASSES
from model_server.runtime.region_detector import BACKBONES, DEFAULT_BACKBONE, build_detector
from model_server.training import REPO_ROOT, default_dataset_dir
from model_server.training import autolabel as al
from model_server.training import labels as lb
from model_server.training.datasets import (
    FaceRegions,
    collate,
    load_samples,
    negative_samples,
    person_of,
    split_people,
)
from model_server.training.engine import evaluate, false_parts, train_one_epoch, warmup_cosine
from model_server.training.report import (
    save_metrics,
    save_overlay,
    write_detector_card,
    write_model_card,
)
from model_server.training.transforms import PERTURBATIONS, PRESETS, get_transform

DEFAULT_WORK = REPO_ROOT / "var" / "training"
OVERLAY_DIR = REPO_ROOT / "var" / "eval"
DEFAULT_WEIGHTS = REPO_ROOT / "model_server" / "weights" / "face_regions.pt"
ATTRIBUTION = (
    "DeBruine, L. & Jones, B. (2017). Face Research Lab London Set. figshare. "
    "doi:10.6084/m9.figshare.5047666.v5 (CC BY 4.0)"
)


# ----------------------------------------------------------------------------- shared helpers
def require_dataset(dataset_dir: Path) -> Path:
    if not (dataset_dir / "images").is_dir():
        raise SystemExit(
            f"dataset not found at {dataset_dir}: set ALPHAMALE_DATASET_DIR or --dataset-dir "
            "(the London set lives in ../shared/datasets/london-faces)"
        )
    return dataset_dir


def ensure_labels(
    dataset_dir: Path, path: Path, within: str
) -> tuple[dict[str, int], dict[str, str]]:
    """(type index per person, sex per person), building ``path`` when absent."""
    if not path.exists() or json.loads(path.read_text()).get("ranked_within") != within:
        lb.save_labels(lb.build_labels(dataset_dir, within=within), path, within=within)
    body = json.loads(path.read_text())
    return lb.load_labels(path), {f["person"]: f["sex"] for f in body["faces"]}


def ensure_autolabels(dataset_dir: Path, path: Path) -> dict[str, Any]:
    if not path.exists():
        images = sorted((dataset_dir / "images").glob("*.jpg"))
        al.save_json(al.autolabel_images(images), path)
    return json.loads(path.read_text())


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def save_serving_checkpoint(
    path: Path, model: torch.nn.Module, *, backbone: str, image_size: int, meta: dict[str, Any]
) -> None:
    """fp16 serving checkpoint (:func:`model_server.runtime.checkpoint.save_checkpoint`)."""
    save_checkpoint(path, model, backbone=backbone, image_size=image_size, meta=meta, half=True)


# ----------------------------------------------------------------------------- labels / autolabel
def cmd_labels(args: argparse.Namespace) -> int:
    dataset_dir = require_dataset(args.dataset_dir)
    faces = lb.build_labels(dataset_dir, within=args.within)
    lb.save_labels(faces, args.out, within=args.within)
    counts = Counter((f.sex, f.type) for f in faces)
    print(f"{len(faces)} faces ranked within {args.within} -> {args.out}")
    for key in sorted(counts):
        print(f"  {key[0]:7s} {key[1]:6s} {counts[key]}")
    return 0


def cmd_autolabel(args: argparse.Namespace) -> int:
    dataset_dir = require_dataset(args.dataset_dir)
    images = sorted((dataset_dir / "images").glob("*.jpg"))[: args.limit or None]
    coco = al.autolabel_images(images, size=args.crop_size, margin=args.margin)
    landmarks = dataset_dir / "landmarks" / "neutral_front_189pt.json"
    if landmarks.exists():
        coco["check"] = al.compare_with_landmarks(coco, json.loads(landmarks.read_text()))
        print("mean IoU vs hand-placed 189-point landmarks:", json.dumps(coco["check"]))
    al.save_json(coco, args.out)
    print(f"{len(coco['images'])} images, {len(coco['annotations'])} boxes -> {args.out}")
    return 0


# ----------------------------------------------------------------------------- train
def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Train the face-region detector", add_help=add_help)
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--labels", type=Path, default=DEFAULT_WORK / "labels.json")
    p.add_argument("--autolabels", type=Path, default=DEFAULT_WORK / "autolabels.json")
    p.add_argument(
        "--within", choices=("sex", "all"), default="sex", help="rank faces within sex or overall"
    )
    p.add_argument("--output-dir", type=Path, default=DEFAULT_WORK / "run")
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
    p.add_argument("--backbone", choices=sorted(BACKBONES), default=DEFAULT_BACKBONE)
    p.add_argument("--image-size", type=int, default=320)
    p.add_argument("--box-head-width", type=int, default=256)
    p.add_argument("--rpn-proposals", type=int, default=300)
    p.add_argument("--rois-per-image", type=int, default=128)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--warmup-iters", type=int, default=100)
    p.add_argument(
        "--aug", choices=sorted(PRESETS), default="train", help="training transform preset"
    )
    p.add_argument("--test-people", type=int, default=16, help="people held out (split by person)")
    p.add_argument(
        "--limit-people", type=int, default=0, help="train on this many people only (smoke tests)"
    )
    p.add_argument(
        "--max-iters",
        type=int,
        default=0,
        help="stop each epoch after this many steps (smoke tests)",
    )
    p.add_argument(
        "--perturbations", default=",".join(PERTURBATIONS), help="comma list, '' for none"
    )
    p.add_argument("--no-eval", action="store_true")
    p.add_argument("--threshold", type=float, default=0.75, help="served part threshold")
    p.add_argument(
        "--negatives", type=float, default=0.25, help="face-free crops, as a share of the photos"
    )
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
    return p


@dataclass
class TrainingData:
    """What a run trains and tests on, split by person."""

    dataset_dir: Path
    types: dict[str, int]
    coco: dict[str, Any]
    train_people: list[str]
    test_people: list[str]
    samples: list[Any]


def load_data(args: argparse.Namespace) -> TrainingData:
    dataset_dir = require_dataset(args.dataset_dir)
    types, sexes = ensure_labels(dataset_dir, args.labels, args.within)
    coco = ensure_autolabels(dataset_dir, args.autolabels)
    people = sorted({person_of(i["file_name"]) for i in coco["images"]} & set(types))
    train_people, test_people = split_people(
        people, test_people=args.test_people, seed=args.seed, groups=sexes
    )
    if args.limit_people:
        train_people = train_people[: args.limit_people]
    samples = load_samples(dataset_dir, coco, types, people=set(train_people))
    samples += negative_samples(round(args.negatives * len(samples)), args.image_size, args.seed)
    print(f"train: {len(samples)} crops of {len(train_people)} people; test: {len(test_people)}")
    return TrainingData(dataset_dir, types, coco, train_people, test_people, samples)


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
        "labels": {"ranked_within": args.within, "shares": list(lb.SEED_SHARES)},
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
    loader = torch.utils.data.DataLoader(
        FaceRegions(data.samples, get_transform(args.aug)),
        batch_size=args.batch_size,
        shuffle=True,
        generator=generator,
        num_workers=args.workers,
        collate_fn=collate,
        drop_last=len(data.samples) > args.batch_size,
    )
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
        eval_dir = args.eval_dir or out / "eval"
        perturbations = [p for p in args.perturbations.split(",") if p]
        results = run_evaluation(
            weights_out,
            data.dataset_dir,
            data.coco,
            data.types,
            eval_dir,
            perturbations,
            args.threshold,
            out / "overlays",
        )
        meta["metrics"] = {
            k: {m: v for m, v in r.items() if m != "predictions"} for k, r in results.items()
        }
        meta["eval_dir"] = _rel(eval_dir)
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


# ----------------------------------------------------------------------------- evaluate
def run_evaluation(
    weights: Path,
    dataset_dir: Path,
    coco: dict[str, Any],
    types: dict[str, int],
    eval_dir: Path,
    perturbations: list[str],
    threshold: float = 0.75,
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
    shown = clean["predictions"][:8]
    by_id = {s.image_id: s.crop for s in samples}
    # Overlays show dataset faces: written under var/ only, never beside the committed weights.
    overlays = overlay_dir or OVERLAY_DIR
    save_overlay([by_id[p["image_id"]] for p in shown], shown, overlays / "overlay.png")
    if "wild" in results:
        wild_preset = get_transform("wild")
        crops = []
        for p in results["wild"]["predictions"][:8]:
            s = next(s for s in samples if s.image_id == p["image_id"])
            img, _ = FaceRegions([s], wild_preset)[0]
            crops.append(img.permute(1, 2, 0).numpy())
        save_overlay(crops, results["wild"]["predictions"][:8], overlays / "overlay_wild.png")
    return results


def cmd_evaluate(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    dataset_dir = require_dataset(args.dataset_dir)
    ckpt = load_checkpoint(args.checkpoint)
    types, _ = ensure_labels(dataset_dir, args.labels, ckpt.meta["labels"]["ranked_within"])
    coco = ensure_autolabels(dataset_dir, args.autolabels)
    perturbations = [p for p in args.perturbations.split(",") if p]
    run_evaluation(
        args.checkpoint, dataset_dir, coco, types, args.out, perturbations, args.threshold
    )
    print(f"evaluation -> {args.out}")
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    write_model_card(args.out, args.checkpoint, args.type_metrics)
    print(f"model card -> {args.out}")
    return 0


# ----------------------------------------------------------------------------- archive
def cmd_archive(args: argparse.Namespace) -> int:
    """Delegate to ``python -m model_server.tools.archive build`` (the model server's archiver)."""
    if importlib.util.find_spec("model_server.tools.archive") is None:
        print("model_server.tools.archive is not available yet", file=sys.stderr)
        return 2
    command = [
        sys.executable, "-m", "model_server.tools.archive", "build",
        "--name", "face_regions", "--version", args.version,
        "--checkpoint", str(args.checkpoint), "--store", str(args.store),
    ]  # fmt: skip
    card = args.model_card or args.checkpoint.with_name("MODEL_CARD.md")
    if card.is_file():
        command += ["--model-card", str(card)]
    return subprocess.call(command)


# ----------------------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m model_server.training", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("labels", help="ratings -> mean per face -> types (seed's quota rule)")
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--within", choices=("sex", "all"), default="sex")
    p.add_argument("--out", type=Path, default=DEFAULT_WORK / "labels.json")
    p.set_defaults(func=cmd_labels)

    p = sub.add_parser(
        "autolabel", help="face / T-zone / jaw boxes from MTCNN landmarks (COCO JSON)"
    )
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--out", type=Path, default=DEFAULT_WORK / "autolabels.json")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--crop-size", type=int, default=320)
    p.add_argument("--margin", type=float, default=0.25)
    p.set_defaults(func=cmd_autolabel)

    sub.add_parser(
        "train", parents=[get_args_parser(add_help=False)], help="train the detector"
    ).set_defaults(func=lambda a: (main(a), 0)[1])

    p = sub.add_parser("evaluate", help="evaluate a checkpoint on its held-out people")
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--labels", type=Path, default=DEFAULT_WORK / "labels.json")
    p.add_argument("--autolabels", type=Path, default=DEFAULT_WORK / "autolabels.json")
    p.add_argument("--out", type=Path, default=DEFAULT_WORK / "eval")
    p.add_argument("--perturbations", default=",".join(PERTURBATIONS))
    p.add_argument("--threshold", type=float, default=0.75)
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "card", help="MODEL_CARD.md from the type model's metrics and the detector's run"
    )
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument(
        "--type-metrics", type=Path, default=DEFAULT_WEIGHTS.parent / "eval/type_model.json"
    )
    p.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS.with_name("MODEL_CARD.md"))
    p.set_defaults(func=cmd_card)

    from model_server.training import type_cli

    sub.add_parser(
        "type-model",
        parents=[type_cli.get_args_parser(add_help=False)],
        help="the type model: embeddings, person-grouped CV, permutation null, artefact",
    ).set_defaults(func=lambda a: (type_cli.main(a), 0)[1])

    from model_server.training import face_net_parity, type_views

    sub.add_parser(
        "face-net-parity",
        parents=[face_net_parity.get_args_parser(add_help=False)],
        help="the torch face network against dlib-bin's on the London chips",
    ).set_defaults(func=lambda a: (face_net_parity.main(a), 0)[1])

    sub.add_parser(
        "type-views",
        parents=[type_views.get_args_parser(add_help=False)],
        help="test-time views of the type model's features, chosen by variant stability",
    ).set_defaults(func=lambda a: (type_views.main(a), 0)[1])

    p = sub.add_parser(
        "archive", help="checkpoint -> face_regions .mar (via model_server.tools.archive)"
    )
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--version", default="1.0")
    p.add_argument("--store", type=Path, default=REPO_ROOT / "model_store")
    p.add_argument("--model-card", type=Path, default=None, help="default: MODEL_CARD.md beside it")
    p.set_defaults(func=cmd_archive)
    return parser


def cli(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
