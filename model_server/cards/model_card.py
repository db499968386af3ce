"""``python -m model_server.training card``: MODEL_CARD.md, both models' sections.

The type model's (its metrics JSON, and beside it the face network's parity, the views'
choice and the card before issue 27 when present), then the region detector's (its
checkpoint's run).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.parameters import CROP
from model_server.cards import render
from model_server.cards.detector_card import detector_card
from model_server.cards.type_card import type_section
from model_server.paths import EVAL_DIR, WEIGHTS_DIR


def write_model_card(path: Path, weights: Path, type_metrics: Path) -> None:
    from model_server.runtime.checkpoint import load_checkpoint  # torch, only when written

    checkpoint = load_checkpoint(weights)
    metrics = json.loads(type_metrics.read_text())
    files = {"face_net_parity": "face_net_parity", "type_views": "type_views"}
    files["before"] = "type_model.before"  # the card before issue 27, frozen
    beside = {
        name: json.loads(p.read_text())
        for name, stem in files.items()
        if (p := type_metrics.with_name(f"{stem}.json")).is_file()
    }
    card = render(
        "model_card.md.j2",
        crop_size=CROP.size,
        type_section=type_section(metrics["figures"], metrics["meta"], **beside),
        detector_section=detector_card(
            {**checkpoint.meta, "backbone": checkpoint.backbone}, weights
        ),
    )
    path.write_text(card)


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, add_help=add_help)
    p.add_argument("--checkpoint", type=Path, default=WEIGHTS_DIR / "face_regions.pt")
    p.add_argument("--type-metrics", type=Path, default=EVAL_DIR / "type_model.json")
    p.add_argument("--out", type=Path, default=WEIGHTS_DIR / "MODEL_CARD.md")
    return p


def main(args: argparse.Namespace) -> int:
    write_model_card(args.out, args.checkpoint, args.type_metrics)
    print(f"model card -> {args.out}")
    return 0
