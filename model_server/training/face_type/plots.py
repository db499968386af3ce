"""The type model's two plots: predicted vs rated (out of fold), and the permutation null."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot_scatter(result: Mapping[str, Any], name: str, path: Path) -> None:
    rated, scores = result["rated"], result["scores"][name]
    people = sorted(rated)
    fig, ax = plt.subplots(figsize=(5, 5), dpi=110)
    ax.scatter([rated[p] for p in people], [scores[p] for p in people], s=14, alpha=0.8)
    ax.set_xlabel("mean rating (z within sex)")
    ax.set_ylabel(f"predicted, out of fold ({name})")
    ax.set_title(f"r = {result['all'][name].r:.2f} over {len(people)} people")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_null(null: Sequence[Mapping[str, float]], observed: float, name: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=110)
    ax.hist([n["exact"] * 100 for n in null], bins=20, color="#9aa", label="shuffled labels")
    ax.axvline(observed * 100, color="#e84545", label=f"observed ({name})")
    ax.set_xlabel("exact type, % of people")
    ax.set_ylabel("shuffles")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
