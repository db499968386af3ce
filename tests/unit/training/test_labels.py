"""The seed's quota rule and the ratings -> types pipeline."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from model_server.training.face_type.ratings import (
    SEED_SHARES,
    assign_types,
    quota_counts,
    read_mean_ratings,
)


def test_seed_worked_example_overshoot() -> None:
    # 23.98, 23.54, 24.75, 21.12, 16.72 -> 24+24+25+21+17 = 111; Beta's .54 is nearest .5.
    assert quota_counts(110, SEED_SHARES) == [24, 23, 25, 21, 17]


def test_undershoot_is_symmetric() -> None:
    # The mirror case: 24.02, 23.46, 24.25, 20.88, 17.39 round to 24+23+24+21+17 = 109, one too
    # few; of the rounded-down types Beta's .46 is nearest .5, so Beta gets one more.
    assert quota_counts(110, [24.02, 23.46, 24.25, 20.88, 17.39]) == [24, 24, 24, 21, 17]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 49, 53, 102, 110, 1000])
def test_counts_always_sum_to_n(n: int) -> None:
    counts = quota_counts(n)
    assert sum(counts) == n and all(c >= 0 for c in counts)


def test_highest_rated_get_alpha_and_ties_break_by_id() -> None:
    scores = {f"X{i:03d}": float(i) for i in range(10)} | {"X100": 9.0}
    types = assign_types(scores, [20, 20, 20, 20, 20])
    assert types["X009"] == 0 and types["X100"] == 0  # the two best
    assert types["X000"] == 4 and types["X001"] == 4  # the two worst
    # 11 x 20 % = 2.2 each -> 10, one short; all fractions tie, so the first type takes it.
    assert Counter(types.values()) == Counter({0: 3, 1: 2, 2: 2, 3: 2, 4: 2})


def test_reads_old_mac_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_bytes(b"rater_sex,X001,X002\rfemale,3,5\rmale,,7\rmale,4,NA\r")
    assert read_mean_ratings(path) == {"X001": 3.5, "X002": 6.0}
