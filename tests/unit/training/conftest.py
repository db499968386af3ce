"""Fixtures for the training-pipeline tests: the London set, skipped with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_server.training import DATASET_ENV, default_dataset_dir


@pytest.fixture(scope="session")
def dataset_dir() -> Path:
    path = default_dataset_dir()
    if not (path / "images").is_dir():
        pytest.skip(
            f"London faces dataset not found at {path}: set {DATASET_ENV} or place it in "
            "../shared/datasets/london-faces to run this test"
        )
    return path
