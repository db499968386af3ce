"""The steady type model's data and out-of-fold values: what the choice and the card read.

- :func:`load_variant_data`: the cached blocks of :mod:`.variant_features` (the originals and
  the fitting edits; the report edits and the third photos when asked) with the targets.
- :func:`predicted`: every photo's region values, out of fold, as they are (for every target
  column: the real target and the null's shuffles) and under each edit (the real target), from
  :mod:`.stable_ridge`'s person-grouped CV with a :class:`~.stable_ridge.Penalty`.
- :func:`photo_sets`: one, two and three photos of each person under a family's edits, as
  :class:`~.steadiness.Sets`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.taxonomy import PARTS
from model_server.training.face_type.data import Faces, targets
from model_server.training.face_type.stable_ridge import FoldPlan, Penalty, Region, out_of_fold
from model_server.training.face_type.steadiness import Sets, combine
from model_server.training.face_type.train import cut_points
from model_server.training.face_type.variant_features import CACHE_DIR, Block, load_block
from model_server.training.london import person_of


@dataclass(frozen=True)
class VariantData:
    """The photos' targets and served features (``faces``: the originals), and each block's
    served features (photos, edits, regions, 128) with where a face was found."""

    names: list[str]
    faces: Faces
    hard: Block
    report: Block | None = None
    third: Block | None = None

    def region(self, k: int) -> Region:
        """Region ``k``'s originals and fitting variants, for :mod:`.stable_ridge`."""
        served = self.hard.served
        return Region(served[:, 0, k], served[:, :, k], self.hard.found)


def load_variant_data(
    dataset_dir: Path,
    cache_dir: Path = CACHE_DIR,
    workers: int = 2,
    limit_people: int = 0,
    reporting: bool = True,
    build: bool = True,
) -> VariantData | None:
    """The blocks from their caches (built when missing, unless not ``build``: then None);
    photos whose original has no face are left out."""
    hard = load_block("hard", dataset_dir, cache_dir, workers, limit_people, build)
    if hard is None:
        return None
    keep = hard.found[:, 0]
    hard = _rows(hard, keep)
    features = {part: hard.served[:, 0, k] for k, part in enumerate(PARTS)}
    faces = targets(hard.names, dataset_dir, features)
    if not reporting:
        return VariantData(hard.names, faces, hard)
    report = load_block("report", dataset_dir, cache_dir, workers, limit_people, build)
    third = load_block("third", dataset_dir, cache_dir, workers, limit_people, build)
    if report is None or third is None:
        return None
    return VariantData(
        hard.names, faces, hard, _rows(report, keep), _rows(third, third.found[:, 0])
    )


def _rows(block: Block, keep: np.ndarray) -> Block:
    return Block(
        [n for n, k in zip(block.names, keep, strict=True) if k],
        block.edits,
        block.features[keep],
        block.descriptors[keep],
        block.found[keep],
    )


@dataclass(frozen=True)
class Predicted:
    """Out-of-fold values: ``photos`` (photos, columns, regions) for every target column;
    ``hard``/``report`` (photos, edits, regions) and ``third`` (thirds, edits, regions) for the
    first (real) column."""

    photos: np.ndarray
    hard: np.ndarray
    report: np.ndarray | None
    third: np.ndarray | None

    def cuts(self) -> dict[str, list[float]]:
        """Each region's and the average's cut points from the photos' values (as served)."""
        values = self.photos[:, 0]
        cuts = {part: cut_points(dict(enumerate(values[:, k]))) for k, part in enumerate(PARTS)}
        return cuts | {"average": cut_points(dict(enumerate(values.mean(axis=1))))}


def predicted(
    data: VariantData, y: np.ndarray, plan: list[FoldPlan], penalty: Penalty
) -> Predicted:
    """Every photo's out-of-fold values under ``penalty`` for the target columns ``y``
    (photos, columns), and the first column's values of the edited photos."""
    people = data.faces.people
    third_people = np.array([person_of(n) for n in data.third.names]) if data.third else None
    columns, edited = [], {"hard": [], "report": [], "third": []}
    for k in range(len(PARTS)):
        extra = {"hard": (people, data.hard.served[:, 1:, k])}
        if data.report is not None and data.third is not None:
            extra["report"] = (people, data.report.served[:, :, k])
            extra["third"] = (third_people, data.third.served[:, :, k])
        result = out_of_fold(data.region(k), y, plan, penalty, extra, people)
        columns.append(result.photos)
        for name, values in result.extra.items():
            edited[name].append(values)
    stack = {n: np.stack(v, axis=-1) if v else None for n, v in edited.items()}
    return Predicted(np.stack(columns, axis=-1), stack["hard"], stack["report"], stack["third"])


def _masked(values: np.ndarray, found: np.ndarray) -> np.ndarray:
    return np.where(found[..., None], values, np.nan)


def photo_sets(data: VariantData, values: Predicted, family: str) -> dict[int, Sets]:
    """One photo (every photo), two (neutral + smiling) and three (with the third photo) sets
    under ``family``'s edits ("hard" or "report"), the edits applied to every photo."""
    people = data.faces.people
    base = values.photos[:, 0]
    if family == "hard":
        edited = _masked(values.hard, data.hard.found[:, 1:])
        edits = data.hard.edits[1:]
    else:
        assert values.report is not None and data.report is not None
        edited = _masked(values.report, data.report.found)
        edits = data.report.edits
    one = Sets(base, edited, edits, people, 1)
    stems = [Path(n).stem for n in data.names]
    pairs = sorted(
        {person_of(n) for n in data.names}
        & {s[:-3] for s in stems if s.endswith("_03")}
        & {s[:-3] for s in stems if s.endswith("_08")}
    )
    neutral = [stems.index(f"{p}_03") for p in pairs]
    smiling = [stems.index(f"{p}_08") for p in pairs]
    two = combine([_subset(one, neutral), _subset(one, smiling)])
    sets = {1: one, 2: two}
    if values.third is not None and data.third is not None:
        third_people = [person_of(n) for n in data.third.names]
        shared = [p for p in pairs if p in third_people]
        rows = [third_people.index(p) for p in shared]
        cols = slice(1, 11) if family == "hard" else slice(11, 21)
        third_edited = _masked(values.third[:, cols], data.third.found[:, cols])
        third = Sets(values.third[rows, 0], third_edited[rows], edits, np.array(shared), 1)
        keep = [pairs.index(p) for p in shared]
        sets[3] = combine([_subset(two, keep, photos=2), third])
    return sets


def _subset(sets: Sets, rows: list[int], photos: int | None = None) -> Sets:
    return Sets(
        sets.base[rows], sets.edited[rows], sets.edits, sets.people[rows], photos or sets.photos
    )
