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


def plot_margin(
    steadiness: Mapping[str, Any], threshold: float, path: Path, width: float = 1.0
) -> None:
    """Share of answers changing type under some edit, per margin bin of ``width`` (out of
    fold, everyone; the last bin holds all beyond it), for one to three photos under each
    family of edits; the near threshold marked."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8), dpi=110)
    names = {"hard": "fitting", "report": "report"}
    styles = {"hard": "-", "report": "--"}
    colours = {"photos_1": "#3a86ff", "photos_2": "#e84545", "photos_3": "#2ec481"}
    for family, table in steadiness.items():
        for photos, colour in colours.items():
            bins = table.get(photos, {}).get("flips_by_margin", [])
            if not bins:
                continue
            x = [b["from"] + width / 2 for b in bins]
            y = [100 * b["flipped"] for b in bins]
            label = f"{photos[-1]} photo{'s' if photos[-1] != '1' else ''}, {names[family]} edits"
            ax.plot(x, y, styles.get(family, "-"), color=colour, marker="o", ms=3, label=label)
    ax.axvline(threshold, color="#555", lw=1, ls=":", label=f"near threshold {threshold:g}")
    ax.set_xlabel(f"margin (noise units of the fitting edits), bins of {width:g}")
    ax.set_ylabel("type changed under some edit, %")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
