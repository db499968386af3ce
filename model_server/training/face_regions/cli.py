"""The part detector's small commands: ``autolabel`` (its boxes) and ``archive`` (its ``.mar``).

``train`` is :mod:`.train`, ``evaluate`` :mod:`.evaluate`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from core.dataset import default_dataset_dir
from core.parameters import CROP
from model_server.paths import MODEL_STORE_DIR
from model_server.training import london
from model_server.training.face_regions import autolabel as al
from model_server.training.face_regions.data import AUTOLABELS
from model_server.training.face_regions.evaluate import DEFAULT_WEIGHTS


# ----------------------------------------------------------------------------- autolabel
def autolabel_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=al.__doc__, add_help=add_help)
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--out", type=Path, default=AUTOLABELS)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--crop-size", type=int, default=CROP.size)
    p.add_argument("--margin", type=float, default=CROP.margin)
    return p


def autolabel(args: argparse.Namespace) -> int:
    dataset_dir = london.require_dataset(args.dataset_dir)
    images = london.photos(dataset_dir, args.limit)
    coco = al.autolabel_images(images, size=args.crop_size, margin=args.margin)
    landmarks = dataset_dir / "landmarks" / "neutral_front_189pt.json"
    if landmarks.exists():
        coco["check"] = al.compare_with_landmarks(coco, json.loads(landmarks.read_text()))
        print("mean IoU vs hand-placed 189-point landmarks:", json.dumps(coco["check"]))
    al.save_json(coco, args.out)
    print(f"{len(coco['images'])} images, {len(coco['annotations'])} boxes -> {args.out}")
    return 0


# ----------------------------------------------------------------------------- archive
def archive_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=archive.__doc__, add_help=add_help)
    p.add_argument("--checkpoint", type=Path, default=DEFAULT_WEIGHTS)
    p.add_argument("--version", default="1.0")
    p.add_argument("--store", type=Path, default=MODEL_STORE_DIR)
    p.add_argument("--model-card", type=Path, default=None, help="default: MODEL_CARD.md beside it")
    return p


def archive(args: argparse.Namespace) -> int:
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
