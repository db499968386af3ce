"""Where the London Face set is read from: the one definition, for training, demo, bench, tests."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATASET_ENV = "ALPHAMALE_DATASET_DIR"


def default_dataset_dir() -> Path:
    """``$ALPHAMALE_DATASET_DIR``, else ``<repo>/../shared/datasets/london-faces``."""
    env = os.environ.get(DATASET_ENV)
    if env:
        return Path(env)
    return REPO_ROOT.parent / "shared" / "datasets" / "london-faces"
