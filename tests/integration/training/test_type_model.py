"""The type model's command on a few real London people: dlib embeddings, training, the card
(its statistics on data made here: tests/unit/training/test_type_model.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.taxonomy import PARTS
from model_server.runtime.type_model import TypeModel
from model_server.training.face_type import cli as type_cli


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
