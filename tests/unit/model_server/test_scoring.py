"""Table tests of the seed's score, thresholds and the two part rules (spec 2.4 and 2.5)."""

from __future__ import annotations

import pytest

from core.taxonomy import PARTS, TYPES
from model_server.runtime.labels import encode_label
from model_server.runtime.scoring import (
    DEFAULT_POINTS,
    Detection,
    PartDecision,
    classify,
    decide_part,
    decide_parts,
    iou,
    type_for_score,
    weighted_score,
)

BOX = (10.0, 10.0, 110.0, 110.0)


def det(type_name: str, part: str, score: float, box: tuple[float, ...] = BOX) -> Detection:
    return Detection(box, encode_label(TYPES.index(type_name), PARTS.index(part)), score)  # type: ignore[arg-type]


def found(types: dict[str, str]) -> dict[str, PartDecision]:
    return {p: PartDecision(p, True, types[p], BOX, 1.0, 1.0) for p in types}


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
    assert classify(found(types)) == (outcome, score)


def test_points_follow_the_seeds_table() -> None:
    assert DEFAULT_POINTS == {
        "face": (50, 40, 30, 20, 10),
        "t_zone": (40, 32, 24, 16, 8),
        "jaw": (10, 8, 6, 4, 2),
    }


def test_points_and_bounds_are_configurable() -> None:
    types = {"face": "beta", "t_zone": "beta", "jaw": "beta"}
    flat = {p: (5, 4, 3, 2, 1) for p in PARTS}
    assert classify(found(types), points=flat, bounds=((11, "alpha"), (0, "omega"))) == (
        "alpha",
        12,
    )


def test_a_missing_part_gives_regions_incomplete() -> None:
    decisions = found({"face": "alpha", "t_zone": "alpha", "jaw": "alpha"})
    decisions["jaw"] = PartDecision("jaw", False, None, None, 0.0, 0.2)
    assert classify(decisions) == ("regions_incomplete", None)
    with pytest.raises(ValueError, match="missing"):
        weighted_score({"face": "alpha", "t_zone": "alpha"})


def test_types_split_on_one_box_summed_finds_the_part_single_does_not() -> None:
    detections = [det("alpha", "face", 0.4), det("beta", "face", 0.4)]
    summed = decide_part(0, detections, rule="summed", threshold=0.75)
    single = decide_part(0, detections, rule="single", threshold=0.75)
    assert summed.found and summed.type in ("alpha", "beta") and summed.box == BOX
    assert summed.presence == pytest.approx(0.8)
    assert summed.confidence == pytest.approx(0.5)
    assert summed.distribution == pytest.approx(
        {"alpha": 0.5, "beta": 0.5} | dict.fromkeys(TYPES[2:], 0)
    )
    assert not single.found and single.type is None and single.box is None


def test_rules_agree_when_one_type_dominates() -> None:
    detections = [det("gamma", "jaw", 0.8), det("delta", "jaw", 0.1)]
    for rule in ("summed", "single"):
        decision = decide_part(2, detections, rule=rule)  # type: ignore[arg-type]
        assert (decision.found, decision.type) == (True, "gamma")


def test_summed_rule_ignores_boxes_that_do_not_overlap_the_best_one() -> None:
    far = (300.0, 300.0, 400.0, 400.0)
    detections = [det("alpha", "t_zone", 0.5), det("beta", "t_zone", 0.45, far)]
    decision = decide_part(1, detections, threshold=0.75)
    assert not decision.found and decision.presence == pytest.approx(0.5)
    assert decide_part(1, detections, threshold=0.75, iou_threshold=0.0).found


def test_summed_type_is_the_argmax_of_the_mass() -> None:
    shifted = (12.0, 12.0, 112.0, 112.0)  # IoU ~0.92 with BOX
    detections = [
        det("alpha", "face", 0.5),
        det("delta", "face", 0.45),
        det("delta", "face", 0.3, shifted),
    ]
    decision = decide_part(0, detections)
    assert decision.type == "delta" and decision.box == BOX  # anchor = single best box


def test_decide_parts_keeps_parts_apart() -> None:
    decisions = decide_parts([det("omega", "face", 0.9)], rule="summed", threshold=0.75)
    assert decisions["face"].found and decisions["face"].type == "omega"
    assert not decisions["t_zone"].found and not decisions["jaw"].found
    assert decisions["jaw"].as_region().distribution == {}


def test_unknown_rule_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown rule"):
        decide_part(0, [det("alpha", "face", 0.9)], rule="majority")  # type: ignore[arg-type]


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


def test_a_tie_in_mass_goes_to_the_higher_ranked_type() -> None:
    """Equal mass on two types of one part: alpha..omega order decides (the first wins)."""
    for first, second in (("gamma", "beta"), ("beta", "gamma")):
        detections = [det(first, "jaw", 0.4), det(second, "jaw", 0.4)]
        assert decide_part(2, detections).type == "beta"
