"""Survey ratings to type labels: mean rating per face, then the seed's quota rule by rank.

``python -m model_server.training labels`` writes them (:mod:`.cli`); the type model's targets and
the part detector's split (balanced by sex) read the same survey.

The seed's rule (spec 6): counts = round(N x share); while their sum overshoots, take one from the
rounded-up type whose fractional part is nearest 0.5; while it undershoots, give one to the
rounded-down type whose fractional part is nearest 0.5. The highest-rated faces get Alpha.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from core.taxonomy import TYPES
from model_server.paths import TRAINING_WORK_DIR

# The seed's survey distribution over alpha..omega, in percent.
SEED_SHARES: tuple[float, ...] = (21.8, 21.4, 22.5, 19.2, 15.2)
# Where ``labels`` writes them and the part detector's training reads them.
LABELS = TRAINING_WORK_DIR / "labels.json"


def quota_counts(n: int, shares: Sequence[float] = SEED_SHARES) -> list[int]:
    """How many of ``n`` faces get each type (shares in percent or fractions, any scale)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    total = float(sum(shares))
    if total <= 0 or any(s < 0 for s in shares):
        raise ValueError("shares must be non-negative with a positive sum")
    exact = [n * s / total for s in shares]
    counts = [math.floor(x + 0.5) for x in exact]  # half up, not Python's banker's rounding
    frac = [x - math.floor(x) for x in exact]
    adjusted: set[int] = set()
    while (diff := sum(counts) - n) != 0:
        if diff > 0:  # overshoot: only types that were rounded up can give one back
            pool = [i for i in range(len(counts)) if counts[i] > exact[i] and i not in adjusted]
        else:  # undershoot: only types that were rounded down can take one more
            pool = [i for i in range(len(counts)) if counts[i] < exact[i] and i not in adjusted]
        if not pool:  # cannot happen with |diff| <= len(shares) / 2, kept for safety
            pool = [i for i in range(len(counts)) if i not in adjusted] or list(range(len(counts)))
            adjusted.clear()
        chosen = min(pool, key=lambda i: (abs(frac[i] - 0.5), i))
        counts[chosen] += -1 if diff > 0 else 1
        adjusted.add(chosen)
    return counts


def assign_types(
    scores: Mapping[str, float], shares: Sequence[float] = SEED_SHARES
) -> dict[str, int]:
    """Type index per id: ranked by score (highest first, ties by id), cut by the quotas."""
    ranked = sorted(scores, key=lambda k: (-scores[k], k))
    counts = quota_counts(len(ranked), shares)
    out: dict[str, int] = {}
    position = 0
    for type_index, count in enumerate(counts):
        for key in ranked[position : position + count]:
            out[key] = type_index
        position += count
    return out


def read_mean_ratings(path: Path) -> dict[str, float]:
    """Mean rating per face column of the London ``ratings.csv`` (blanks skipped).

    The published file uses old-Mac CR line endings; Python's universal newlines read it.
    """
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    with open(path, encoding="utf-8", newline=None) as fh:
        reader = csv.DictReader(fh)
        faces = [c for c in reader.fieldnames or [] if c.startswith("X")]
        for row in reader:
            for face in faces:
                value = (row.get(face) or "").strip()
                if value and value.upper() != "NA":
                    sums[face] = sums.get(face, 0.0) + float(value)
                    counts[face] = counts.get(face, 0) + 1
    return {f: sums[f] / counts[f] for f in sums if counts[f]}


def read_faces_info(path: Path) -> dict[str, dict[str, str]]:
    """``faces_info.csv`` rows by face id (``X001``)."""
    with open(path, encoding="utf-8", newline=None) as fh:
        return {row["face_id"]: row for row in csv.DictReader(fh)}


@dataclass
class FaceLabel:
    face_id: str
    person: str  # "001", the prefix of the image stems
    sex: str
    mean_rating: float
    raters: int
    type_index: int
    type: str


def build_labels(
    dataset_dir: Path, *, within: str = "sex", shares: Sequence[float] = SEED_SHARES
) -> list[FaceLabel]:
    """Type label per person of the London set; ``within`` is ``"sex"`` or ``"all"``."""
    means = read_mean_ratings(dataset_dir / "ratings.csv")
    info = read_faces_info(dataset_dir / "faces_info.csv")
    raters = _count_raters(dataset_dir / "ratings.csv")
    groups: dict[str, dict[str, float]] = {}
    for face_id, mean in means.items():
        key = info.get(face_id, {}).get("face_sex", "unknown") if within == "sex" else "all"
        groups.setdefault(key, {})[face_id] = mean
    if within not in ("sex", "all"):
        raise ValueError("within must be 'sex' or 'all'")
    labels = []
    for group in groups.values():
        for face_id, type_index in assign_types(group, shares).items():
            labels.append(
                FaceLabel(
                    face_id=face_id,
                    person=face_id.lstrip("X"),
                    sex=info.get(face_id, {}).get("face_sex", "unknown"),
                    mean_rating=round(means[face_id], 4),
                    raters=raters.get(face_id, 0),
                    type_index=type_index,
                    type=TYPES[type_index],
                )
            )
    return sorted(labels, key=lambda lab: lab.face_id)


def _count_raters(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with open(path, encoding="utf-8", newline=None) as fh:
        for row in csv.DictReader(fh):
            for key, value in row.items():
                value = (value or "").strip()
                if key and key.startswith("X") and value and value.upper() != "NA":
                    counts[key] = counts.get(key, 0) + 1
    return counts


def save_labels(labels: Sequence[FaceLabel], path: Path, *, within: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "ranked_within": within,
        "shares": list(SEED_SHARES),
        "types": list(TYPES),
        "faces": [asdict(lab) for lab in labels],
    }
    path.write_text(json.dumps(body, indent=1))


def load_labels(path: Path) -> dict[str, int]:
    """Type index per person id (``"001"``) from a file written by :func:`save_labels`."""
    body = json.loads(path.read_text())
    return {f["person"]: int(f["type_index"]) for f in body["faces"]}
