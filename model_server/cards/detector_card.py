"""The part detector's card: its section of MODEL_CARD.md, and a bare checkpoint's short card."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.parameters import PART_THRESHOLD
from model_server.cards import render
from model_server.paths import EVAL_DIR, REPO_ROOT


def detector_card(meta: Mapping[str, Any], weights: Path | None = None) -> str:
    """The region detector's section of MODEL_CARD.md, from a serving checkpoint's ``meta``
    (with its ``backbone``)."""
    metrics = meta.get("metrics", {})
    clean = metrics.get("clean")
    check = meta.get("autolabel_check") or {}
    return render(
        "face_regions.md.j2",
        meta=meta,
        tr=meta["training"],
        split=meta["split"],
        metrics=metrics,
        clean=clean,
        check=check,
        iou=check.get("mean_iou", {}),
        size=f"{weights.stat().st_size / 1e6:.1f} MB" if weights and weights.exists() else "n/a",
        threshold=clean["threshold"] if clean else PART_THRESHOLD,
        worst_found=min((m["all_parts_found"] for m in metrics.values()), default=None),
        worst_map=min((m["map50"] for m in metrics.values()), default=None),
        wall_minutes=meta.get("wall_minutes"),
        eval_dir=meta.get("eval_dir", str(EVAL_DIR.relative_to(REPO_ROOT))),
    )


def write_detector_card(path: Path, meta: Mapping[str, Any], weights: Path | None = None) -> None:
    """The detector's section alone (a training run's own card)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(detector_card(meta, weights))


def checkpoint_card(version: str, meta: Mapping[str, Any]) -> str:
    """The short card of a checkpoint that has no written card (plumbing or ad-hoc versions)."""
    return render(
        "checkpoint.md.j2",
        version=version,
        trained=meta.get("trained", True),
        meta_json=json.dumps(meta, indent=2, sort_keys=True, default=str),
    )
