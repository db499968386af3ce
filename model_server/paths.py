"""Where the model server's files are in the repository: each path defined once.

Plain constants, importing nothing of ours: the tools, training and the cards read them. The
serving runtime does not (an import-linter contract keeps it so): a TorchServe worker runs it
from an extracted archive, where there is no repository; it is given its files by the archive.
"""

from __future__ import annotations

from pathlib import Path

MODEL_SERVER_DIR = Path(__file__).resolve().parent
REPO_ROOT = MODEL_SERVER_DIR.parent
RUNTIME_DIR = MODEL_SERVER_DIR / "runtime"  # ships whole into every .mar
CONFIG_DIR = MODEL_SERVER_DIR / "config"  # the model-config yamls, config.properties' template
WEIGHTS_DIR = MODEL_SERVER_DIR / "weights"  # what is committed and archived, MODEL_CARD.md
EVAL_DIR = WEIGHTS_DIR / "eval"  # the committed figures the model card quotes
MODEL_STORE_DIR = REPO_ROOT / "model_store"  # the built .mar archives (not committed)
VAR_DIR = REPO_ROOT / "var"  # caches and runs (not committed)
TRAINING_WORK_DIR = VAR_DIR / "training"  # labels, auto-labels, runs
