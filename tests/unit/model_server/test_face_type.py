"""The type model the ``face_type`` handler serves, on made-up artefacts: cut points,
probabilities, strength, margin and near, several photos, identity. The handler itself, with the
real face network: tests/integration/model_server/test_face_type_handler.py."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from core.taxonomy import PARTS
from model_server.runtime.type_model import (
    Calibration,
    TypeModel,
    identity_distances,
    person_descriptor,
    strength,
    type_index,
)

CUTS = [1.5, 0.5, -0.5, -1.5]  # value > 1.5 alpha, (0.5, 1.5] beta, ... <= -1.5 omega


def artefact(served: str = "seed_vote") -> dict[str, Any]:
    """A type model whose region k's value is embedding[k] (so tests choose the values)."""
    regions = {}
    for k, part in enumerate(PARTS):
        coef = np.zeros(128)
        coef[k] = 1.0
        regions[part] = {
            "mean": [0.0] * 128, "scale": [1.0] * 128, "coef": coef.tolist(), "intercept": 0.0
        }  # fmt: skip
    calibration = {"slope": 1.0, "intercept": 0.0, "sigma": 0.5}
    noise = {"face": 1.0, "t_zone": 1.0, "jaw": 1.0, "average": 1.0}
    return {
        "regions": regions,
        "cut_points": {name: CUTS for name in (*PARTS, "average")},
        "calibration": {name: calibration for name in (*PARTS, "average")},
        "rating_cuts": CUTS,
        "served": served,
        "noise": {"1": noise, "2": {k: v / 2 for k, v in noise.items()}, "3": noise},
        "near_threshold": 1.0,
        "identity": {"threshold": 0.6},
    }


def embeddings(face: float, t_zone: float, jaw: float) -> dict[str, np.ndarray]:
    vector = np.zeros(128)
    vector[:3] = face, t_zone, jaw
    return dict.fromkeys(PARTS, vector)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2.0, 0), (1.5, 1), (1.0, 1), (0.5, 2), (0.0, 2), (-0.5, 3), (-1.5, 4), (-9.0, 4)],
)
def test_a_value_is_cut_into_a_type_by_descending_cut_points(value: float, expected: int) -> None:
    assert type_index(value, CUTS) == expected


def test_calibrated_probabilities_sum_to_one_and_follow_the_value() -> None:
    calibration = Calibration(slope=1.0, intercept=0.0, sigma=0.5)
    high, low = calibration.probabilities(2.5, CUTS), calibration.probabilities(-2.5, CUTS)
    assert sum(high) == pytest.approx(1) and sum(low) == pytest.approx(1)
    assert high.index(max(high)) == 0 and low.index(max(low)) == 4
    middle = calibration.probabilities(0.0, CUTS)  # centred in gamma's interval (-0.5, 0.5]
    assert middle[2] == pytest.approx(math.erf(1 / math.sqrt(2)), abs=1e-9)  # P(|z| < 1)


@pytest.mark.parametrize(("p", "word"), [(0.7, "clear"), (0.5, "clear"), (0.4, "likely"),
                                         (0.35, "likely"), (0.2, "borderline")])  # fmt: skip
def test_strength_words(p: float, word: str) -> None:
    assert strength(p) == word


@pytest.mark.parametrize(
    ("combination", "values", "expected", "score"),
    [
        # face beta 40 + T-zone alpha 40 + jaw gamma 6 = 86 > 85: alpha under the seed's vote
        ("seed_vote", (1.0, 2.0, 0.0), "alpha", 86),
        ("face", (1.0, 2.0, 0.0), "beta", 86),
        ("average", (1.0, 2.0, 0.0), "beta", 86),  # mean 1.0: beta
        # face omega 10 + T-zone omega 8 + jaw alpha 10 = 28 > 20: delta
        ("seed_vote", (-2.0, -2.0, 2.0), "delta", 28),
    ],
)
def test_the_combination_decides_the_type_and_the_score_is_always_the_seeds(
    combination: str, values: tuple[float, float, float], expected: str, score: int
) -> None:
    prediction = TypeModel(artefact(), combination=combination).decide(
        dict(zip(PARTS, values, strict=True))
    )
    assert (prediction.type, prediction.score) == (expected, score)
    assert sum(r.points for r in prediction.regions.values()) == score


# --- several photos, margin and near, identity ----------------------------------------------
def test_the_margin_is_the_smallest_move_in_noise_units_that_changes_the_type() -> None:
    """Face beta 40 + T-zone alpha 40 + jaw gamma 6 = 86: alpha, 1 point above its bound. Each
    region is 0.5 from the cut that would make it beta; in noise units the face is 1.0 (noise
    0.5), the T-zone 0.5 (noise 1), the jaw 2.0 (noise 0.25): the T-zone's move is the nearest."""
    body = artefact() | {"noise": {"1": {"face": 0.5, "t_zone": 1.0, "jaw": 0.25}}}
    model = TypeModel(body)
    prediction = model.decide(dict(zip(PARTS, (1.0, 2.0, 0.0), strict=True)))
    assert prediction.type == "alpha" and prediction.margin == pytest.approx(0.5)
    assert prediction.near == "beta"  # 0.5 < the threshold 1.0
    # all alpha at 2.5 (score 100): face and T-zone both beta (82) is sqrt(2^2 + 1^2) units away,
    # the T-zone alone down to gamma (84: beta) 2.0 units: the nearest, beta across it
    far = model.decide(dict.fromkeys(PARTS, 2.5))
    assert (far.type, far.margin, far.near) == ("alpha", 2.0, None)


def test_the_margin_counts_joint_moves_of_several_regions() -> None:
    """All three alpha at 1.6 (0.1 above the beta cut): one region becoming beta still scores
    alpha (90, 92 or 98); the face and T-zone both becoming beta score 82 (beta), a joint move
    of sqrt(0.1^2 + 0.1^2); a single region moving to gamma or lower needs >= 1.1."""
    prediction = TypeModel(artefact()).decide(dict.fromkeys(PARTS, 1.6))
    assert prediction.type == "alpha" and prediction.score == 100
    assert prediction.margin == pytest.approx(round(0.02**0.5, 3))
    assert prediction.near == "beta"


def test_the_average_rule_measures_its_own_cut() -> None:
    body = artefact("average") | {"noise": {"1": {"average": 0.25}}}
    prediction = TypeModel(body).decide(dict(zip(PARTS, (0.0, 0.3, 0.3), strict=True)))
    assert prediction.type == "gamma"  # mean 0.2 in (-0.5, 0.5]
    assert prediction.margin == pytest.approx(1.2) and prediction.near is None  # 0.3 / 0.25


def test_several_photos_combine_by_the_mean_value_and_use_their_noise() -> None:
    model = TypeModel(artefact())
    combined = model.predict_photos([embeddings(1.0, 2.0, 0.0), embeddings(0.0, 1.0, -1.0)])
    alone = model.decide(dict(zip(PARTS, (0.5, 1.5, -0.5), strict=True)), photos=2)
    assert combined == alone and combined.photos == 2
    assert [r.value for r in combined.regions.values()] == [0.5, 1.5, -0.5]
    one = model.decide(dict(zip(PARTS, (0.5, 1.5, -0.5), strict=True)))
    assert combined.margin == pytest.approx(2 * one.margin)  # two photos' noise is half here


def test_identity_distances_and_the_persons_descriptor() -> None:
    first, second = np.eye(128)[0] * 2, np.eye(128)[0] * 2 + np.eye(128)[1] * 0.5
    assert identity_distances([first, second, first]) == pytest.approx([0.0, 0.5, 0.0])
    mean = person_descriptor([first, second])
    assert np.linalg.norm(mean) == pytest.approx(1.0)
    assert mean[1] / mean[0] == pytest.approx(0.25 / 2)
