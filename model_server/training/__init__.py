"""Training pipeline for the face-region detector (spec section 6).

``python -m model_server.training {labels,autolabel,train,evaluate,archive}``: survey ratings to
type labels, landmark-based auto-labelling of the three face parts, Faster R-CNN training on the
upright face crops the gateway sends, evaluation on unseen people, and archiving to ``.mar``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATASET_ENV = "ALPHAMALE_DATASET_DIR"


def default_dataset_dir() -> Path:
    """``$ALPHAMALE_DATASET_DIR``, else ``<repo>/../shared/datasets/london-faces``."""
    env = os.environ.get(DATASET_ENV)
    if env:
        return Path(env)
    return REPO_ROOT.parent / "shared" / "datasets" / "london-faces"
