"""The type model's card: its section of MODEL_CARD.md, from ``eval/type_model.json``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from model_server.cards import render

ALIGNED = [0.0, 0.0, 1.0]  # the view "as aligned": no shift, no scale
HALVES = ("choose", "report")
STEADY, CLEAR_SHARE, TWO_CLEAR, ALL_TEN, EXACT = 0.97, 0.5, 0.7, 0.88, 0.41


def type_section(
    figures: Mapping[str, Mapping[str, Any]],
    meta: Mapping[str, Any],
    face_net_parity: Mapping[str, Any] | None = None,
    type_views: Mapping[str, Any] | None = None,
    before: Mapping[str, Any] | None = None,
) -> str:
    """The type model's section: what it measures, by person-grouped CV with its null; how
    steady it is, for one to three photos, against the card before issue 27 (``before``); the
    face network's parity with dlib and the views' choice when given."""
    stability = meta.get("stability", {})
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
        after=stability.get("after", {}),
        before_steadiness=stability.get("before", {}),
        choice=choice_rows(meta.get("choice", {})),
        **chosen_row(meta),
        identity=meta.get("identity"),
        serving=meta.get("serving", {}),
        targets=targets(figures, meta),
        before=before,
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


def choice_rows(table: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per candidate penalty: the served rule's choosing-half figures."""
    return [
        {"name": name, "vote": f["seed_vote"], "average": f["average"], "face": f["face"]}
        for name, f in table.items()
    ]


def chosen_row(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The chosen penalty's choosing-half figures for one photo (the neutral alone) and the
    mean of two: kept under all ten fitting edits, and the clear shares."""
    row = meta.get("choice", {}).get(meta.get("chosen", {}).get("penalty"), {})
    vote = row.get("seed_vote", {})
    return {
        "choice_first": vote.get("first_photo_of_two"),
        "choice_two": vote.get("photos_2", {}).get("all"),
        "choice_one_clear": vote.get("photos_1", {}).get("clear_share"),
        "choice_two_clear": vote.get("photos_2", {}).get("clear_share"),
        "choice_people": vote.get("photos_2", {}).get("sets"),
    }


def targets(figures: Mapping[str, Any], meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Issue 27's targets, each with its figure (reporting half where the issue asks for one
    photo's or two photos' steadiness; everyone for accuracy) and whether it is met."""
    served = meta["served"]
    after = meta.get("stability", {}).get("after", {})
    out = []
    for family, label in (("hard", "fitting"), ("report", "report")):
        one = after.get(family, {}).get("photos_1", {}).get("report")
        two = after.get(family, {}).get("photos_2", {}).get("report")
        if not one or not two:
            continue
        out += [
            _target(f"one photo, {label} edits: clear answers keep their type under all ten",
                    one["clear_all"], STEADY),
            _target(f"one photo, {label} edits: clear answers are at least half",
                    one["clear_share"], CLEAR_SHARE),
            _target(f"one photo, {label} edits: all answers keep their type under all ten",
                    one["all"], ALL_TEN),
            _target(f"two photos, {label} edits: clear answers", two["clear_share"], TWO_CLEAR),
            _target(f"two photos, {label} edits: clear answers keep their type under all ten",
                    two["clear_all"], STEADY),
        ]  # fmt: skip
    out.append(_target("exact type, all people", figures[served]["exact"], EXACT))
    out.append(_target("permutation p of the exact type", figures[served]["p_exact"], 0.01, True))
    return out


def _target(what: str, value: float | None, bound: float, below: bool = False) -> dict[str, Any]:
    met = value is not None and (value <= bound if below else value >= bound)
    return {"what": what, "value": value, "bound": bound, "below": below, "met": met}


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
