"""The type model's statistics on data made here (fast), and its command on a few real people."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from core.taxonomy import PARTS
from model_server.runtime.type_model import TypeModel
from model_server.training.face_type import cli as type_cli
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


@pytest.mark.dataset
@pytest.mark.slow
def test_the_command_on_a_few_real_people(dataset_dir: Path, tmp_path: Path) -> None:
    args = type_cli.get_args_parser().parse_args(
        [
            "--dataset-dir", str(dataset_dir),
            "--cache-dir", str(tmp_path / "variants"),
            "--out", str(tmp_path / "type_model.json"),
            "--metrics", str(tmp_path / "eval" / "type_model.json"),
            "--card", str(tmp_path / "MODEL_CARD.md"),
            "--limit-people", "8", "--folds", "3", "--repeats", "1", "--choose-repeats", "1",
            "--shuffles", "3",
        ]
    )  # fmt: skip
    summary = type_cli.main(args)
    artefact = json.loads((tmp_path / "type_model.json").read_text())
    assert set(artefact["regions"]) == set(PARTS)
    assert all(len(r["coef"]) == 128 for r in artefact["regions"].values())
    assert set(artefact["cut_points"]) == {*PARTS, "average"}
    assert all(len(edges) == 4 for edges in artefact["cut_points"].values())
    assert artefact["served"] == "seed_vote"
    assert set(artefact["calibration"]) == {*PARTS, "average"}
    assert all(c["sigma"] > 0 for c in artefact["calibration"].values())
    assert set(artefact["noise"]) == {"1", "2", "3"} and artefact["near_threshold"] >= 0
    assert 0 < artefact["identity"]["threshold"] < 2
    # the artefact serves: the runtime loads it and decides a photo from its values
    decided = TypeModel(artefact).decide(dict.fromkeys(PARTS, 0.0))
    assert decided.score == sum(r.points for r in decided.regions.values())
    meta = summary["meta"]
    assert meta["people"] == 8 and meta["photos"] == 16
    assert meta["stability"]["expression"]["people"] == 8
    after = meta["stability"]["after"]
    assert after["hard"]["photos_1"]["all"]["sets"] == 16
    assert after["report"]["photos_2"]["all"]["sets"] == 8
    assert after["hard"]["photos_3"]["all"]["sets"] == 8
    served = meta["stability"]["photos"]["served"]
    assert served["exact"] <= served["within_one"]
    assert (tmp_path / "type_model.json").stat().st_size < 1_000_000
    for name in ("scatter", "null", "margin"):
        assert (tmp_path / "eval" / f"type_model.{name}.png").stat().st_size > 0
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert "person-grouped" in card and "seed's weighted vote" in card and "Men only" in card
    assert "identity check" in card and "near threshold" in card
    assert "face_regions: where the face parts are" in card  # the detector's section too
    again = type_cli.main(args)  # the embeddings come from the cache: same figures
    assert again["figures"] == summary["figures"]
