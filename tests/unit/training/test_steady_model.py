"""The steady type model's pieces on data made here (fast): the generalised ridge and its CV,
steadiness and the near threshold, the identity threshold, the edits, the choice."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.taxonomy import PARTS
from model_server.training.face_type import choose, edits, identity_check, train
from model_server.training.face_type import stable_ridge as sr
from model_server.training.face_type.steadiness import (
    Sets,
    combine,
    noise,
    pick_threshold,
    steadiness,
    typed,
    unit_model,
)
from tests.unit.training.test_type_model import synthetic


def noisy_region(people: int = 40, seed: int = 0) -> tuple[sr.Region, np.ndarray, np.ndarray]:
    """Two photos a person, 8 features; feature 0 carries the target, and each photo's edits
    move feature 1 (which carries some target too) far more than the others."""
    rng = np.random.default_rng(seed)
    ids = np.repeat([f"{i:03d}" for i in range(people)], 2)
    y = np.repeat(rng.normal(size=people), 2)
    x = rng.normal(size=(2 * people, 8))
    x[:, 0] += 1.5 * y
    x[:, 1] += 1.0 * y
    moves = rng.normal(size=(2 * people, 6, 8)) * 0.05
    moves[:, :, 1] *= 40
    variants = np.concatenate([x[:, None], x[:, None] + moves], axis=1)
    return sr.Region(x, variants, np.ones(variants.shape[:2], dtype=bool)), y, ids


def test_the_closed_form_cv_is_sklearns_for_every_target_column() -> None:
    faces = synthetic(people=40, signal=0.7, seed=3)
    x, y = faces.features["face"], faces.target
    shuffled = np.random.default_rng(1).permutation(y)
    plan = sr.fold_plan(faces.people, train.Protocol(5, 2, 0))
    ours = sr.out_of_fold(sr.Region(x), np.column_stack([y, shuffled]), plan, sr.Penalty())
    for column, target in enumerate((y, shuffled)):
        theirs = train.out_of_fold(x, target, faces.people, 5, 2, 0)
        assert np.allclose(ours.photos[:, column], theirs, atol=1e-9)


def test_fitting_everyone_is_the_served_ridge_without_a_penalty() -> None:
    faces = synthetic(people=40, signal=0.7, seed=3)
    regions = [sr.Region(faces.features[p]) for p in PARTS]
    ours = sr.fit_everyone(regions, faces.target, faces.people, 0, sr.Penalty())
    theirs = train.train_type_model(faces, train.Protocol(seed=0))["regions"]
    for part, (stored, _) in zip(PARTS, ours, strict=True):
        assert stored == theirs[part]


def test_the_penalty_is_the_generalised_ridge_and_steadies_the_values() -> None:
    region, y, _ = noisy_region()
    rows = np.arange(len(y))
    plain = sr.Solved.fit(region, rows, y[:, None], sr.Penalty())
    steady = sr.Solved.fit(region, rows, y[:, None], sr.Penalty(kappa=100))
    a = 10.0
    coef = steady.coefs(np.array([a]))[:, 0]
    # the closed form of argmin ||y - Zw||^2 + a||w||^2 + b w'Sw, b = kappa a
    z = (region.x - steady.mean) / steady.scale
    s = sr.nuisance_covariance(region, rows, steady.mean, steady.scale)
    direct = np.linalg.solve(z.T @ z + a * np.eye(8) + 100 * a * s, z.T @ (y - y.mean()))
    assert np.allclose(coef, direct, atol=1e-8)
    moved = np.abs(plain.coefs(np.array([a]))[1, 0]), np.abs(coef[1])
    assert moved[1] < moved[0] / 3  # the noisy feature's weight shrinks


def test_projecting_out_removes_the_top_nuisance_direction() -> None:
    region, y, _ = noisy_region()
    solved = sr.Solved.fit(region, np.arange(len(y)), y[:, None], sr.Penalty(project=1))
    coef = solved.coefs(np.array([1.0]))[:, 0]
    assert abs(coef[1]) < 1e-2 * np.abs(coef).max()


def test_nuisance_covariance_leaves_lost_faces_out() -> None:
    region, y, _ = noisy_region(people=5)
    found = region.found.copy()
    found[0, 3] = False
    variants = region.variants.copy()
    variants[0, 3] = np.nan
    rows = np.arange(len(y))
    s = sr.nuisance_covariance(sr.Region(region.x, variants, found), rows, 0.0, np.ones(8))
    assert np.isfinite(s).all() and np.allclose(s, s.T)


def sets(base: list[float], moves: list[list[float]], photos: int = 1) -> Sets:
    """Sets whose three regions move together: values (sets, edits, 3)."""
    b = np.repeat(np.array(base)[:, None], 3, axis=1)
    e = b[:, None] + np.array(moves)[..., None]
    return Sets(
        b, e, [f"e{k}" for k in range(e.shape[1])], np.arange(len(base)).astype(str), photos
    )


CUTS = {name: [1.5, 0.5, -0.5, -1.5] for name in (*PARTS, "average")}


def test_sets_combine_by_the_mean_of_all_their_photos() -> None:
    two = sets([0.0, 1.0], [[0.1], [0.1]], photos=2)
    one = sets([3.0, 4.0], [[0.4], [0.4]])
    three = combine([two, one])
    assert three.photos == 3 and np.allclose(three.base[:, 0], [1.0, 2.0])
    assert np.allclose(three.edited[:, 0, 0], [1.2, 2.2])


def test_noise_steadiness_and_the_threshold_that_keeps_clear_answers() -> None:
    # 0.0 sits mid-gamma (0.5 from a cut): an edit of 0.1 keeps it; 0.45 sits 0.05 from the
    # beta cut: an edit of 0.1 moves it to beta
    data = sets([0.0, 0.45, 0.0, 0.45], [[0.1, -0.1], [0.1, 0.0], [-0.1, 0.1], [0.0, 0.0]])
    assert noise(data)["face"] == pytest.approx(np.sqrt(np.mean([0.01] * 5 + [0] * 3)))
    model = unit_model(CUTS, "average", {1: {"average": 0.1}})
    types = typed(data, model)
    rows = np.ones(4, dtype=bool)
    threshold = pick_threshold(types, rows, steady=1.0)
    assert 0.5 < threshold <= 5.0  # 0.45 is 0.5 noise units from its cut, 0.0 is 5
    figures = steadiness(types, data.edits, rows, threshold)
    assert figures["e0"] == 0.75 and figures["all"] == 0.75
    assert (figures["clear_share"], figures["clear_all"], figures["near_all"]) == (0.5, 1.0, 0.5)


def test_the_identity_threshold_is_chosen_between_the_pairs() -> None:
    same = np.linspace(0.1, 0.4, 100)
    different = np.linspace(0.5, 1.0, 1000)
    threshold, both = identity_check.pick(same, different)
    assert both and 0.5 <= threshold < 0.51  # as tolerant as half the different budget allows
    rates = identity_check.rates(threshold, same, different)
    assert rates["same_accepted"] == 1.0 and rates["different_accepted"] <= 0.01
    overlapping = np.linspace(0.3, 0.9, 1000)  # 1 % of them is below 99 % of ``same``
    threshold, both = identity_check.pick(same, overlapping)
    rates = identity_check.rates(threshold, same, overlapping)
    assert not both and rates["different_accepted"] <= 0.01 and rates["same_accepted"] < 0.99


def test_edits_are_seeded_and_keep_the_photo_a_photo() -> None:
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 255, (120, 100, 3), dtype=np.uint8))
    face = (30.0, 30.0, 70.0, 80.0)
    for name, edit in {**edits.REPORT, "third": edits.THIRD}.items():
        once = edit.photo(image, face, edits.seeded("x", name))
        again = edit.photo(image, face, edits.seeded("x", name))
        assert once.mode == "RGB" and min(once.size) > 20, name
        assert np.array_equal(np.asarray(once), np.asarray(again)), name
    assert set(edits.HARD) == {
        "mirror", "jpeg_q40", "jpeg_q60", "scale_60", "scale_80", "rotate_+5", "rotate_-5",
        "bright_+20", "bright_-20", "shift_5",
    }  # fmt: skip
    assert len(edits.REPORT) == 10 and not set(edits.REPORT) & set(edits.HARD)
    assert edits.edited_box((0, 0, 10, 10), (0.1, -0.2, 2.0)) == pytest.approx((-4, -7, 16, 13))


def row(exact: float, r: float, clear: float, steady: float) -> dict:
    figures = {"exact": exact, "r": r, "threshold": 2.0, "photos_1": {"all": steady}}
    figures["photos_1"]["clear_share"] = clear
    return {rule: dict(figures) for rule in choose.RULES}


def test_the_choice_takes_the_most_clear_answers_within_the_accuracy_slack() -> None:
    names = [sr.Penalty(kappa=k).name for k in (0, 10, 100, 1000)]
    assert names[:2] == ["a by CV, b 0", "a by CV, b 10a"]
    table = {
        names[0]: row(0.40, 0.60, 0.55, 0.76),
        names[1]: row(0.39, 0.59, 0.60, 0.74),  # within the slack: more clear answers
        names[2]: row(0.30, 0.60, 0.80, 0.80),  # less accurate: out
        names[3]: row(0.40, 0.50, 0.90, 0.80),  # lower r: out
    }
    chosen = choose.choose(table)
    assert chosen["penalty"] == names[1] and chosen["rule"] == "seed_vote"
    assert chosen["rules_better_on_both"] == []
