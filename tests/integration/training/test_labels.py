"""The London set's ratings turned into types (the quota rule itself, on made-up ratings:
tests/unit/training/test_labels.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from model_server.training.face_type.ratings import build_labels, quota_counts


@pytest.mark.dataset
def test_london_labels_ranked_within_sex(dataset_dir: Path) -> None:
    labels = build_labels(dataset_dir, within="sex")
    assert len(labels) == 102
    for sex in ("female", "male"):
        mine = [lab for lab in labels if lab.sex == sex]
        counts = Counter(lab.type_index for lab in mine)
        assert [counts[t] for t in range(5)] == quota_counts(len(mine))
        best = max(mine, key=lambda lab: lab.mean_rating)
        worst = min(mine, key=lambda lab: lab.mean_rating)
        assert best.type == "alpha" and worst.type == "omega"
