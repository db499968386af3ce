"""The served artefact of the steady type model (``type_model.json``).

The ridges fitted on every photo with the chosen penalty (:func:`.stable_ridge.fit_everyone`),
and what serving needs beside them: the cut points and calibrations from the out-of-fold photo
values (as before), the noise of each region's value for one, two and three photos (the margin's
unit), the near threshold (chosen on the choosing half), and the identity threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from core.taxonomy import PARTS
from model_server.training.face_type.stable_ridge import Penalty, fit_everyone
from model_server.training.face_type.steadiness import noise, pick_threshold, typed, unit_model
from model_server.training.face_type.steady_fit import Predicted, VariantData, photo_sets
from model_server.training.face_type.train import calibrate, cut_points


def measured_noise(data: VariantData, values: Predicted) -> dict[int, dict[str, float]]:
    """Photo count -> each region's (and the average's) RMS value change under the fitting
    edits, out of fold, over everyone."""
    return {n: noise(s) for n, s in photo_sets(data, values, "hard").items()}


def near_threshold(
    data: VariantData,
    values: Predicted,
    noises: Mapping[int, Mapping[str, float]],
    rule: str,
    choose: list[str],
) -> float:
    """The smallest threshold whose clear single photos of the choosing half keep their type
    under every fitting edit at least 97 % of the time (:func:`.steadiness.pick_threshold`)."""
    one = photo_sets(data, values, "hard")[1]
    model = unit_model(values.cuts(), rule, noises)
    return pick_threshold(typed(one, model), one.rows(choose))


def artefact(
    data: VariantData,
    values: Predicted,
    penalty: Penalty,
    seed: int,
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    """``type_model.json``: ``settings`` gives ``served`` (the rule), ``noise``,
    ``near_threshold`` and ``identity_threshold``."""
    faces = data.faces
    fitted = fit_everyone(
        [data.region(k) for k in range(len(PARTS))], faces.target, faces.people, seed, penalty
    )
    photo = {part: values.photos[:, 0, k] for k, part in enumerate(PARTS)}
    photo["average"] = np.mean([photo[p] for p in PARTS], axis=0)
    rated = {p: float(faces.target[faces.people == p][0]) for p in np.unique(faces.people)}
    return {
        "regions": {part: stored for part, (stored, _) in zip(PARTS, fitted, strict=True)},
        "cut_points": {n: cut_points(dict(enumerate(v))) for n, v in photo.items()},
        "calibration": {n: calibrate(v, faces.target) for n, v in photo.items()},
        "rating_cuts": cut_points(rated),
        "served": settings["served"],
        "noise": {str(n): dict(v) for n, v in settings["noise"].items()},
        "near_threshold": settings["near_threshold"],
        "identity": {"threshold": settings["identity_threshold"], "metric": "euclidean"},
        "penalty": {
            "kappa": penalty.kappa,
            "project": penalty.project,
            "fixed_alpha": penalty.alpha,
            "alpha": {part: a for part, (_, a) in zip(PARTS, fitted, strict=True)},
        },
    }
