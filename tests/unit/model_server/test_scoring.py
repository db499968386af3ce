"""Table tests of the seed's score and bounds (spec 2.5) and the part rule (spec 2.4)."""

from __future__ import annotations

import pytest

from core.parameters import SCORE_POINTS
from core.taxonomy import PARTS
from model_server.runtime.part_labels import NUM_CLASSES, decode_label, encode_label
from model_server.runtime.parts import Detection, decide_part, decide_parts, iou
from model_server.runtime.scoring import part_points, type_for_score, weighted_score

BOX = (10.0, 10.0, 110.0, 110.0)


def det(part: str, score: float, box: tuple[float, ...] = BOX) -> Detection:
    return Detection(box, encode_label(PARTS.index(part)), score)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (100, "alpha"),
        (86, "alpha"),
        (85, "beta"),  # bounds are strict: 85 is not "> 85"
        (69, "beta"),
        (68, "gamma"),
        (49, "gamma"),
        (48, "delta"),
        (21, "delta"),
        (20, "omega"),
        (1, "omega"),
    ],
)
def test_type_for_score_uses_the_seeds_strict_bounds(score: int, expected: str) -> None:
    assert type_for_score(score) == expected


def test_a_score_of_zero_is_below_every_bound() -> None:
    with pytest.raises(ValueError, match="below every bound"):
        type_for_score(0)


@pytest.mark.parametrize(
    ("face", "t_zone", "jaw", "score", "outcome"),
    [
        ("alpha", "alpha", "alpha", 100, "alpha"),
        ("alpha", "alpha", "omega", 92, "alpha"),
        ("alpha", "beta", "omega", 84, "beta"),
        ("beta", "beta", "beta", 80, "beta"),
        ("beta", "gamma", "alpha", 74, "beta"),
        ("gamma", "gamma", "gamma", 60, "gamma"),
        ("gamma", "delta", "delta", 50, "gamma"),
        ("delta", "gamma", "omega", 46, "delta"),
        ("delta", "delta", "delta", 40, "delta"),
        ("omega", "omega", "omega", 20, "omega"),
        ("omega", "omega", "alpha", 28, "delta"),
    ],
)
def test_weighted_score_and_outcome(
    face: str, t_zone: str, jaw: str, score: int, outcome: str
) -> None:
    types = {"face": face, "t_zone": t_zone, "jaw": jaw}
    assert weighted_score(types) == score
    assert type_for_score(score) == outcome


def test_points_follow_the_seeds_table() -> None:
    assert SCORE_POINTS == {
        "face": (50, 40, 30, 20, 10),
        "t_zone": (40, 32, 24, 16, 8),
        "jaw": (10, 8, 6, 4, 2),
    }


def test_points_and_bounds_can_be_given() -> None:
    types = {"face": "beta", "t_zone": "beta", "jaw": "beta"}
    flat = {p: (5, 4, 3, 2, 1) for p in PARTS}
    assert part_points(types, flat) == {"face": 4, "t_zone": 4, "jaw": 4}
    assert type_for_score(weighted_score(types, flat), ((11, "alpha"), (0, "omega"))) == "alpha"


def test_every_part_is_needed_for_a_score() -> None:
    with pytest.raises(ValueError, match="parts missing"):
        weighted_score({"face": "alpha", "t_zone": "alpha"})


def test_labels_are_background_and_three_parts() -> None:
    assert NUM_CLASSES == 4
    assert [encode_label(i) for i in range(3)] == [1, 2, 3]
    assert [decode_label(label) for label in (1, 2, 3)] == [0, 1, 2]
    for bad in (0, 4):
        with pytest.raises(ValueError):
            decode_label(bad)


@pytest.mark.parametrize(
    ("scores", "found", "presence"),
    [
        ([0.9], True, 0.9),
        ([0.75], True, 0.75),  # the seed's threshold is inclusive
        ([0.74, 0.5], False, 0.74),  # scores of several boxes are never added up
        ([], False, 0.0),
    ],
)
def test_a_part_is_found_when_its_best_box_reaches_the_threshold(
    scores: list[float], found: bool, presence: float
) -> None:
    decision = decide_part(0, [det("face", s) for s in scores])
    assert (decision.found, decision.score) == (found, presence)
    assert decision.box == (BOX if found else None)


def test_the_best_box_of_a_part_is_its_box() -> None:
    other = (0.0, 0.0, 50.0, 50.0)
    decision = decide_part(1, [det("t_zone", 0.8), det("t_zone", 0.95, other)])
    assert decision.box == other and decision.as_region().presence == 0.95


def test_decide_parts_keeps_parts_apart() -> None:
    decisions = decide_parts([det("face", 0.9), det("jaw", 0.3)], threshold=0.5)
    assert {p: d.found for p, d in decisions.items()} == {
        "face": True, "t_zone": False, "jaw": False
    }  # fmt: skip


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (BOX, BOX, 1.0),
        (BOX, (110.0, 110.0, 200.0, 200.0), 0.0),
        ((0.0, 0.0, 10.0, 10.0), (5.0, 0.0, 15.0, 10.0), 1 / 3),
    ],
)
def test_iou(a: tuple[float, ...], b: tuple[float, ...], expected: float) -> None:
    assert iou(a, b) == pytest.approx(expected)
