"""The type model's card: its section of MODEL_CARD.md, from ``eval/type_model.json``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model_server.training.cards import render

ALIGNED = [0.0, 0.0, 1.0]  # the view "as aligned": no shift, no scale


def type_model_card(
    figures: Mapping[str, Mapping[str, Any]],
    meta: Mapping[str, Any],
    face_net_parity: Mapping[str, Any] | None = None,
    type_views: Mapping[str, Any] | None = None,
) -> str:
    """The type model's section: what it measures, by person-grouped CV with its null; the
    face network's parity with dlib and the views' choice when given."""
    stability = meta.get("stability", {})
    reencoding = stability.get("reencoding", {})
    served = meta["served"]
    men = figures[f"{served}:men"]
    return render(
        "face_type.md.j2",
        figures=figures,
        meta=meta,
        protocol=meta["protocol"],
        served=served,
        features=features(meta.get("features", {})),
        men=men,
        men_r=figures["face:men"]["r"] if men["r"] is None else men["r"],
        photos=stability.get("photos"),
        expression=stability.get("expression"),
        reencoding=reencoding,
        worst_variant=worst(reencoding, ("photos", "all_variants")),
        views=views(type_views) if type_views else None,
        parity=face_net_parity,
    )


def features(meta: Mapping[str, Any]) -> dict[str, Any]:
    """What the served features average: the moved views, the mirror, the brightness gain."""
    views = meta.get("views", [ALIGNED])
    return {
        "moved": [v for v in views if list(v) != ALIGNED],
        "mirror": meta.get("mirror", True),
        "gain": bool(meta.get("gain")),
    }


def views(type_views: Mapping[str, Any]) -> dict[str, Any]:
    """``type_views.json`` with each half's least stable variant."""

    def half(figures: Mapping[str, float]) -> dict[str, float | None]:
        return {**figures, "worst": worst(figures, ("all_variants", "exact"))}

    sets = {
        name: {**f, "choose": half(f["choose"]), "report": half(f["report"])}
        for name, f in type_views["sets"].items()
    }
    return {**type_views, "sets": sets}


def worst(figures: Mapping[str, Any], besides: tuple[str, ...]) -> float | None:
    """The lowest share among ``figures`` but ``besides`` (None when there is none)."""
    return min((v for k, v in figures.items() if k not in besides), default=None)
