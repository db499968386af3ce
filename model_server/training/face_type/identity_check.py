"""Whether several photos show one person: the dlib descriptor distance threshold, measured.

Each London photo's dlib face descriptor (the plain aligned chip of the gateway's crop, raw
128-d, as served) is compared by Euclidean distance (dlib's convention). Same person: each
person's neutral and smiling photo (102 pairs); different people: every pair of photos of two
different people. The threshold is chosen on the choosing half's pairs (even person numbers):
the most tolerant one that accepts at most :data:`CHOSEN_DIFFERENT` of its different-person
pairs (half the :data:`DIFFERENT` budget: a margin for people no choice saw), when it also
accepts at least :data:`SAME` of its same-person pairs; else the largest that keeps different
people at most :data:`DIFFERENT` (and the card says the same-person target is missed).

Why the most tolerant: London's same-person pairs are one studio session, neutral against
smiling (at most 0.41 apart); a person's selfies of different days, light and angles sit
farther apart, and refusing them (``different_people``) fails a real person outright, while
taking two people for one only averages two faces into an entertainment type. Reported on the
reporting half, on everyone, and on harder same-person pairs (the smiling photo against the
neutral one under each report edit, and against the third photo).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from model_server.training.london import person_of

SAME = 0.99  # same person accepted at least this often
DIFFERENT = 0.01  # different people accepted at most this often
CHOSEN_DIFFERENT = DIFFERENT / 2  # what the choice allows itself on the choosing half
DLIB_THRESHOLD = 0.6  # dlib's own suggestion, for comparison


def pair_distances(
    descriptors: np.ndarray, names: Sequence[str], people: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(same-person distances: each person's _03 vs _08; different-person distances: every
    pair of photos of two different people), among ``people``."""
    rows = [i for i, n in enumerate(names) if person_of(n) in set(people)]
    x = descriptors[rows].astype(np.float64)
    owners = np.array([person_of(names[i]) for i in rows])
    stems = [names[i].rsplit(".", 1)[0] for i in rows]
    distance = np.linalg.norm(x[:, None] - x[None], axis=-1)
    upper = np.triu(np.ones_like(distance, dtype=bool), k=1)
    different = distance[upper & (owners[:, None] != owners[None])]
    same = [
        distance[stems.index(f"{p}_03"), stems.index(f"{p}_08")]
        for p in sorted(set(owners.tolist()))
        if f"{p}_03" in stems and f"{p}_08" in stems
    ]
    return np.array(same), different


def largest_accepting(different: np.ndarray, share: float) -> float:
    """The largest threshold accepting at most ``share`` of the different-person pairs."""
    ranked = np.sort(different)
    allowed = int(np.floor(share * len(ranked)))  # pairs that may be accepted
    return float(ranked[allowed] - 1e-6) if allowed < len(ranked) else float(ranked[-1])


def pick(same: np.ndarray, different: np.ndarray) -> tuple[float, bool]:
    """(threshold, whether both targets hold at once) from the pairs' distances."""
    low = float(np.quantile(same, SAME, method="higher"))  # accepts >= SAME of same pairs
    tolerant = largest_accepting(different, CHOSEN_DIFFERENT)
    if low <= tolerant:
        return round(tolerant, 4), True
    return round(largest_accepting(different, DIFFERENT), 4), False


def rates(threshold: float, same: np.ndarray, different: np.ndarray) -> dict[str, Any]:
    """Shares accepted as one person (distance <= threshold), and the pair counts."""
    return {
        "same_pairs": len(same),
        "same_accepted": round(float((same <= threshold).mean()), 4),
        "different_pairs": len(different),
        "different_accepted": round(float((different <= threshold).mean()), 5),
    }


def harder_same(
    smiling: np.ndarray, edited: np.ndarray, found: np.ndarray, threshold: float
) -> float:
    """Share of (person, edit) pairs accepted: the smiling photo against the neutral one under
    each edit (``edited``: (people, edits, 128); ``found``: (people, edits))."""
    distance = np.linalg.norm(edited.astype(np.float64) - smiling[:, None], axis=-1)
    return round(float((distance[found] <= threshold).mean()), 4)


def identity_figures(
    descriptors: np.ndarray,
    names: Sequence[str],
    halves: dict[str, Sequence[str]],
    harder: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
) -> dict[str, Any]:
    """The threshold (chosen on ``halves["choose"]``) and its error rates on each half and on
    everyone; ``harder``: name -> (smiling descriptors, edited neutral ones, found)."""
    everyone = sorted({person_of(n) for n in names})
    pairs = {h: pair_distances(descriptors, names, p) for h, p in halves.items()}
    pairs["all"] = pair_distances(descriptors, names, everyone)
    threshold, both = pick(*pairs["choose"])
    out: dict[str, Any] = {"threshold": threshold, "both_targets_on_choosing_half": both}
    out |= {half: rates(threshold, *p) for half, p in pairs.items()}
    out["dlib_0.6"] = rates(DLIB_THRESHOLD, *pairs["all"])
    same, different = pairs["all"]
    out["distances"] = {
        "same_max": round(float(same.max()), 4),
        "same_p99": round(float(np.quantile(same, 0.99)), 4),
        "different_min": round(float(different.min()), 4),
        "different_p01": round(float(np.quantile(different, 0.01)), 4),
    }
    for name, (smiling, edited, found) in (harder or {}).items():
        out[f"same_accepted_{name}"] = harder_same(smiling, edited, found, threshold)
    return out
