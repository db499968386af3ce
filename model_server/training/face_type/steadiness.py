"""How steady the served type is, out of fold, for one, two and three photos of a person.

A *set* is what one analysis combines: one photo; a person's neutral and smiling photo; or
those two and a third (the neutral photo under :data:`.edits.THIRD`). Each set has its regions'
out-of-fold values as the photos are and under each edit of a family (the edit applied to every
photo of the set; a region's value is the mean over the set's photos, as served). The served
type of each is what :meth:`~model_server.runtime.type_model.TypeModel.classify` gives.

- :func:`noise`: the RMS change of each region's value (and of the average's) under the
  edits: the margin's unit, stored in the artefact per photo count.
- :func:`steadiness`: per edit and under all at once, the share of sets keeping their type; and
  the *clear* sets (margin at or above a threshold: ``near`` null) and how steady they are.
- :func:`pick_threshold`: the smallest threshold whose clear sets keep their type under every
  edit at least :data:`STEADY` of the time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.taxonomy import PARTS, TYPES
from model_server.runtime.type_model import TypeModel

STEADY = 0.97  # clear answers keep their type under every edit at least this often
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0, 6.01, 0.05))


@dataclass(frozen=True)
class Sets:
    """Photo sets' values: ``base`` (sets, regions), ``edited`` (sets, edits, regions; NaN
    where a face was lost), the edits' names, each set's person and photo count."""

    base: np.ndarray
    edited: np.ndarray
    edits: list[str]
    people: np.ndarray
    photos: int

    def rows(self, people: Sequence[str]) -> np.ndarray:
        return np.isin(self.people, list(people))


def combine(sets: Sequence[Sets]) -> Sets:
    """Several photo sets of each person as one: the mean of all their photos' values (same
    edits, same people in the same order)."""
    weights = np.array([s.photos for s in sets], dtype=float)
    return Sets(
        np.average([s.base for s in sets], axis=0, weights=weights),
        np.average([s.edited for s in sets], axis=0, weights=weights),
        sets[0].edits,
        sets[0].people,
        int(weights.sum()),
    )


def noise(sets: Sets, rows: np.ndarray | None = None) -> dict[str, float]:
    """RMS change of each region's value, and of the regions' average, under the edits."""
    rows = np.ones(len(sets.base), dtype=bool) if rows is None else rows
    change = sets.edited[rows] - sets.base[rows][:, None]
    out = {part: _rms(change[..., k]) for k, part in enumerate(PARTS)}
    return out | {"average": _rms(change.mean(axis=-1))}


def edit_noise(sets: Sets, spread: np.ndarray) -> dict[str, dict[str, dict[str, float]]]:
    """Per edit and region: the RMS change of the value and its mean change (bias), as shares
    of the spread (SD) of the photos' values."""
    change = sets.edited - sets.base[:, None]
    out = {}
    for k, edit in enumerate(sets.edits):
        rms = np.sqrt(np.nanmean(change[:, k] ** 2, axis=0)) / spread
        bias = np.nanmean(change[:, k], axis=0) / spread
        out[edit] = {
            part: {"rms": round(float(rms[j]), 3), "bias": round(float(bias[j]), 3)}
            for j, part in enumerate(PARTS)
        }
    return out


def _rms(values: np.ndarray) -> float:
    return round(float(np.sqrt(np.nanmean(values**2))), 6)


@dataclass(frozen=True)
class Typed:
    """Served type indices of each set as it is (``base``) and under each edit (-1: face
    lost), and the base's margin."""

    base: np.ndarray
    edited: np.ndarray
    margin: np.ndarray


def typed(sets: Sets, model: TypeModel) -> Typed:
    """Every set's served type, as it is and under each edit, and its margin."""

    def classify(values: np.ndarray) -> tuple[int, float]:
        if np.isnan(values).any():
            return -1, np.nan
        served, margin, _ = model.classify(
            dict(zip(PARTS, values.tolist(), strict=True)), sets.photos
        )
        return TYPES.index(served), margin  # type: ignore[arg-type]

    base = [classify(v) for v in sets.base]
    edited = [[classify(v)[0] for v in row] for row in sets.edited]
    return Typed(np.array([b[0] for b in base]), np.array(edited), np.array([b[1] for b in base]))


def steadiness(
    types: Typed, edits: Sequence[str], rows: np.ndarray, threshold: float
) -> dict[str, Any]:
    """Shares of the ``rows`` sets keeping their type under each edit and under all at once
    (sets with a face in every edit); the clear sets' share and steadiness at ``threshold``."""
    base, edited = types.base[rows], types.edited[rows]
    found = edited >= 0
    same = edited == base[:, None]
    per_edit = {name: round(float(same[found[:, k], k].mean()), 4) for k, name in enumerate(edits)}
    whole = found.all(axis=1)
    steady = same.all(axis=1)[whole]
    clear = (types.margin[rows] >= threshold)[whole]
    return per_edit | {
        "all": round(float(steady.mean()), 4),
        "sets": int(whole.sum()),
        "clear_share": round(float(clear.mean()), 4),
        "clear_all": round(float(steady[clear].mean()), 4) if clear.any() else None,
        "near_all": round(float(steady[~clear].mean()), 4) if (~clear).any() else None,
    }


def pick_threshold(types: Typed, rows: np.ndarray, steady: float = STEADY) -> float:
    """The smallest threshold whose clear sets keep their type under every edit at least
    ``steady`` of the time (the largest tried when none does)."""
    whole = (types.edited[rows] >= 0).all(axis=1)
    kept = (types.edited[rows] == types.base[rows][:, None]).all(axis=1)[whole]
    margins = types.margin[rows][whole]
    for threshold in THRESHOLDS:
        clear = margins >= threshold
        if clear.any() and kept[clear].mean() >= steady:
            return threshold
    return THRESHOLDS[-1]


MARGIN_BIN, MARGIN_CAP = 1.0, 6.0  # the card's bins of margin; the last holds all beyond


def flips_by_margin(types: Typed, rows: np.ndarray, width: float = MARGIN_BIN) -> list[dict]:
    """Per margin bin (``width`` noise units, the last from :data:`MARGIN_CAP` on): sets, and
    the share changing type under some edit (for the card's plot)."""
    whole = (types.edited[rows] >= 0).all(axis=1)
    flipped = ~(types.edited[rows] == types.base[rows][:, None]).all(axis=1)[whole]
    margins = types.margin[rows][whole]
    bins = np.floor(np.minimum(margins, MARGIN_CAP) / width).astype(int)
    return [
        {
            "from": round(b * width, 2),
            "sets": int((bins == b).sum()),
            "flipped": round(float(flipped[bins == b].mean()), 4),
        }
        for b in sorted(set(bins.tolist()))
    ]


def unit_model(
    cuts: Mapping[str, Sequence[float]],
    combination: str,
    noises: Mapping[int, Mapping[str, float]],
    threshold: float = 0.0,
) -> TypeModel:
    """A type model deciding from values directly (cut points, noise and threshold given)."""
    unit = {"slope": 1.0, "intercept": 0.0, "sigma": 1.0}
    return TypeModel(
        {
            "regions": {p: {"mean": [0], "scale": [1], "coef": [0], "intercept": 0} for p in PARTS},
            "cut_points": dict(cuts),
            "calibration": dict.fromkeys(PARTS, unit),
            "rating_cuts": list(cuts["face"]),
            "served": combination,
            "noise": {str(n): dict(v) for n, v in noises.items()},
            "near_threshold": threshold,
        }
    )
