"""Training pipeline for the face-region detector (spec section 6).

``python -m model_server.training {labels,autolabel,train,evaluate,archive}``: survey ratings to
type labels, landmark-based auto-labelling of the three face parts, Faster R-CNN training on the
upright face crops the gateway sends, evaluation on unseen people, and archiving to ``.mar``.
"""

from __future__ import annotations

from pathlib import Path

from core.dataset import DATASET_ENV, default_dataset_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
__all__ = ["DATASET_ENV", "REPO_ROOT", "default_dataset_dir"]
