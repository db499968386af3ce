"""Unit-test fixtures: the London set (skipped with a clear message) and one torch thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

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


@pytest.fixture
def torch_threads() -> Iterator[int]:
    """One torch thread, given back after (the CLI and the handlers set torch's thread count for
    the whole process). One, not two: beside TorchServe's workers or another job on a 2-core
    machine, two spinning threads were measured up to 10x slower; alone, one costs about 20 %."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield 1
    torch.set_num_threads(before)
