"""The type model's statistics on data made here (its command on a few real London people:
tests/integration/training/test_type_model.py)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from core.taxonomy import PARTS
from model_server.training.face_type import evaluate, ratings, train
from model_server.training.face_type.data import Faces


def synthetic(people: int = 60, signal: float = 1.0, seed: int = 0) -> Faces:
    """Two photos a person; the target is a linear function of the features plus noise."""
    rng = np.random.default_rng(seed)
    ids = np.repeat([f"{i:03d}" for i in range(people)], 2)
    sexes = np.repeat(["female", "male"] * (people // 2), 2)
    base = rng.normal(size=(people, 16))
    x = np.repeat(base, 2, axis=0) + 0.1 * rng.normal(size=(2 * people, 16))
    weights = rng.normal(size=16)
    y_person = signal * (base @ weights) + rng.normal(size=people)
    y = np.repeat((y_person - y_person.mean()) / y_person.std(), 2)
    return Faces(ids, sexes, y, {region: x for region in PARTS})


def test_the_ridge_shrinks_towards_the_mean_and_fits_a_line() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 5))
    y = x @ np.array([1.0, -2.0, 0.0, 0.5, 3.0]) + 4.0
    weak, strong = train.ridge(1e-6).fit(x, y), train.ridge(1e6).fit(x, y)
    assert np.allclose(weak.predict(x), y, atol=1e-3)
    assert np.allclose(strong.predict(x), y.mean(), atol=0.1)
    stored = train.as_dict(weak)  # what type_model.json holds, as the runtime computes it
    z = (x - np.array(stored["mean"])) / np.array(stored["scale"])
    assert np.allclose(z @ np.array(stored["coef"]) + stored["intercept"], y, atol=1e-3)


def test_folds_keep_each_person_whole() -> None:
    faces = synthetic(people=20)
    folds = train.person_folds(faces.people, 5, np.random.RandomState(0))
    assert sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(40))
    for fit_rows, test in folds:
        assert set(faces.people[fit_rows]).isdisjoint(faces.people[test])
        inside = set(faces.people[test].tolist())
        assert np.isin(faces.people, list(inside)).sum() == len(test)  # both photos, same fold
    again = train.person_folds(faces.people, 5, np.random.RandomState(0))
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(folds, again, strict=True))


def test_the_strength_is_the_one_a_grid_search_picks_on_the_same_folds() -> None:
    """One multi-strength fit per fold picks what sklearn's grid search over ``Ridge`` picks
    (equal folds: its mean of fold errors ranks the strengths as our summed error does)."""
    faces = synthetic(people=50, signal=0.5, seed=2)
    x, y = faces.features["face"], faces.target
    for seed in range(3):
        folds = train.person_folds(faces.people, 5, np.random.RandomState(seed))
        search = GridSearchCV(
            train.ridge(1.0),
            {"ridge__alpha": list(train.ALPHAS)},
            cv=folds,
            scoring="neg_mean_squared_error",
        ).fit(x, y)
        picked = train.pick_alpha(x, y, faces.people, np.random.RandomState(seed))
        assert picked == search.best_params_["ridge__alpha"]


def test_out_of_fold_predictions_find_a_real_signal_and_not_a_shuffled_one() -> None:
    faces = synthetic(people=60, signal=2.0)
    protocol = train.Protocol(folds=5, repeats=1, seed=0)
    result = evaluate.evaluate_all(faces, protocol)
    assert result["all"]["face"].r > 0.8 and result["all"]["face"].exact > 0.4
    shuffled = evaluate.shuffled_within(
        faces.target, faces.people, faces.sexes, np.random.default_rng(3)
    )
    noise = evaluate.evaluate_all(faces, protocol, shuffled)
    assert noise["all"]["face"].r < 0.4


def test_shuffles_move_whole_people_within_their_sex() -> None:
    faces = synthetic(people=20)
    moved = evaluate.shuffled_within(
        faces.target, faces.people, faces.sexes, np.random.default_rng(0)
    )
    for person in set(faces.people.tolist()):
        assert len(set(moved[faces.people == person].tolist())) == 1
    for sex in ("female", "male"):
        rows = faces.sexes == sex
        assert sorted(moved[rows].tolist()) == sorted(faces.target[rows].tolist())
    assert not np.array_equal(moved, faces.target)


def test_types_follow_the_seed_quotas_within_sex() -> None:
    scores = {f"{i:03d}": float(i) for i in range(40)}
    sexes = {p: ("female" if i % 2 else "male") for i, p in enumerate(scores)}
    types = evaluate.types_by_quota(scores, sexes)
    for sex in ("female", "male"):
        counts = Counter(t for p, t in types.items() if sexes[p] == sex)
        assert [counts[i] for i in range(5)] == ratings.quota_counts(20)
    assert types["039"] == 0 and types["000"] == 4  # the highest score is alpha


def test_the_seed_vote_adds_up_region_points() -> None:
    people = ["a", "b", "c"]
    region_types = {
        "face": {"a": 0, "b": 1, "c": 4},
        "t_zone": {"a": 0, "b": 2, "c": 4},
        "jaw": {"a": 0, "b": 0, "c": 4},
    }
    # a: 50 + 40 + 10 = 100 > 85 alpha; b: 40 + 24 + 10 = 74 > 68 beta; c: 10 + 8 + 2 = 20 omega
    assert evaluate.seed_vote(region_types) == {"a": 0, "b": 1, "c": 4}
    assert set(people) == set(evaluate.seed_vote(region_types))


def test_cut_points_give_the_quota_shares() -> None:
    scores = {f"{i:03d}": float(i) for i in range(102)}
    edges = train.cut_points(scores)
    assert edges == sorted(edges, reverse=True) and len(edges) == 4
    tiers = [sum(value < edge for edge in edges) for value in scores.values()]
    assert [tiers.count(i) for i in range(5)] == ratings.quota_counts(102)


def test_p_value_counts_the_shuffles_at_least_as_good() -> None:
    assert evaluate.p_value(0.5, [0.1] * 199) == pytest.approx(1 / 200)
    assert evaluate.p_value(0.5, [0.6] * 9 + [0.1]) == pytest.approx(10 / 11)
