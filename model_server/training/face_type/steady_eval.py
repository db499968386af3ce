"""The steady type model's figures: accuracy against the permutation null, and steadiness.

- :func:`null_targets`: the real target and ``shuffles`` within-sex shuffles of it, as the
  columns one CV fits at once (:mod:`.stable_ridge`); the shuffles are
  :func:`.evaluate.permutation_null`'s draws.
- :func:`accuracy`: every predictor's exact type, within one and r, on everyone, men, the
  choosing and the reporting half, each with its permutation p and the null's mean and 95th
  percentile (the whole protocol rerun on each shuffle, the settings fixed).
- :func:`steadiness_tables`: per family of edits, photo count and half, the share of answers
  keeping their type under each edit and under all at once, and the clear answers' share and
  steadiness at the near threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from core.taxonomy import PARTS
from model_server.runtime.type_model import TypeModel
from model_server.training.face_type import evaluate
from model_server.training.face_type.steadiness import (
    Sets,
    edit_noise,
    flips_by_margin,
    steadiness,
    typed,
)
from model_server.training.face_type.steady_fit import Predicted, VariantData, photo_sets

GROUPS = ("all", "men", "choose", "report")


def null_targets(data: VariantData, shuffles: int, seed: int) -> np.ndarray:
    """(photos, 1 + shuffles): the target, then its within-sex shuffles between people."""
    faces = data.faces
    rng = np.random.default_rng(seed + 1)
    drawn = [
        evaluate.shuffled_within(faces.target, faces.people, faces.sexes, rng)
        for _ in range(shuffles)
    ]
    return np.column_stack([faces.target, *drawn])


def column_figures(
    data: VariantData, values: Predicted, y: np.ndarray, column: int, halves: Mapping[str, list]
) -> tuple[dict[str, dict[str, evaluate.Score]], dict[str, Any]]:
    """One target column's figures per group and predictor, and (for the real column) the
    evaluation itself."""
    scores = {part: values.photos[:, column, k] for k, part in enumerate(PARTS)}
    target = y[:, column]
    everyone = evaluate.evaluate_scores(data.faces, scores, target)
    out = {"all": everyone["all"], "men": everyone["men"]}
    for half, people in halves.items():
        out[half] = evaluate.evaluate_scores(data.faces, scores, target, people)["all"]
    return out, everyone


def accuracy(
    data: VariantData, values: Predicted, y: np.ndarray, halves: Mapping[str, list]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[float]]]:
    """(figures with p values per ``predictor[:group]``, the real column's evaluation, the
    null's exact rates of each key)."""
    observed, result = column_figures(data, values, y, 0, halves)
    null: dict[str, list[float]] = {}
    null_r: dict[str, list[float]] = {}
    for column in range(1, y.shape[1]):
        figures, _ = column_figures(data, values, y, column, halves)
        for group, predictors in figures.items():
            for name, score in predictors.items():
                key = name if group == "all" else f"{name}:{group}"
                null.setdefault(key, []).append(score.exact)
                null_r.setdefault(key, []).append(score.r if score.r is not None else np.nan)
    out: dict[str, Any] = {}
    for group, predictors in observed.items():
        for name, score in predictors.items():
            key = name if group == "all" else f"{name}:{group}"
            exact = null.get(key, [])
            out[key] = score.as_dict() | {
                "p_exact": round(evaluate.p_value(score.exact, exact), 4),
                "p_r": round(evaluate.p_value(score.r, null_r[key]), 4)
                if score.r is not None and exact
                else None,
                "null_exact_mean": round(float(np.mean(exact)), 4) if exact else None,
                "null_exact_p95": round(float(np.percentile(exact, 95)), 4) if exact else None,
            }
    return out, result, null


def steadiness_tables(
    data: VariantData,
    values: Predicted,
    model: TypeModel,
    halves: Mapping[str, list],
    families: Sequence[str] = ("hard", "report"),
) -> dict[str, Any]:
    """family -> "photos_n" -> half -> :func:`.steadiness.steadiness` at the model's near
    threshold; each family's flips by margin (everyone) for the plot, and each edit's noise
    and bias on one photo's values (as shares of their spread)."""
    tables: dict[str, Any] = {}
    for family in families:
        sets: dict[int, Sets] = photo_sets(data, values, family)
        table: dict[str, Any] = {}
        for n, photos in sets.items():
            types = typed(photos, model)
            rows = {h: photos.rows(p) for h, p in halves.items()}
            rows["all"] = np.ones(len(photos.base), dtype=bool)
            table[f"photos_{n}"] = {
                half: steadiness(types, photos.edits, r, model.near_threshold)
                for half, r in rows.items()
            } | {"flips_by_margin": flips_by_margin(types, rows["all"])}
        table["edit_noise"] = edit_noise(sets[1], values.photos[:, 0].std(axis=0))
        tables[family] = table
    return tables
