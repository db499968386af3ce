"""The names every part of AlphaMale shares: the five types, the three face parts, the models.

The single source of these spellings: the gateway, the handlers, the training pipeline, the
database seed and (through ``GET /v1/types``) the web client read them from here.
"""

from __future__ import annotations

from typing import Literal, get_args

TypeSlug = Literal["alpha", "beta", "gamma", "delta", "omega"]
PartName = Literal["face", "t_zone", "jaw"]
ModelName = Literal["face_check", "face_regions", "face_type"]

TYPES: tuple[TypeSlug, ...] = get_args(TypeSlug)  # best-rated first: alpha .. omega
PARTS: tuple[PartName, ...] = get_args(PartName)
MODEL_NAMES: tuple[ModelName, ...] = get_args(ModelName)
LANDMARKS = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")
# How each type is drawn, on the result card and in the web client (through GET /v1/types).
TYPE_COLOURS: dict[TypeSlug, str] = {
    "alpha": "#e84545",
    "beta": "#3a86ff",
    "gamma": "#9b5de5",
    "delta": "#2ec481",
    "omega": "#ff9f1c",
}
TYPE_LETTERS: dict[TypeSlug, str] = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "omega": "ω",
}

# Korean display names (the app's first language).
TYPE_NAMES_KO: dict[TypeSlug, str] = {
    "alpha": "알파",
    "beta": "베타",
    "gamma": "감마",
    "delta": "델타",
    "omega": "오메가",
}
PART_NAMES: dict[PartName, str] = {"face": "face", "t_zone": "T-zone", "jaw": "jaw"}
# How each part is outlined, on the result's images and in the web client (a region's `colour`).
PART_COLOURS: dict[PartName, str] = {"face": "#ffd166", "t_zone": "#06d6a0", "jaw": "#ef476f"}
PART_NAMES_KO: dict[PartName, str] = {"face": "얼굴", "t_zone": "T존", "jaw": "턱"}


def type_name(slug: str) -> str:
    """The display name of a type ("alpha" -> "Alpha")."""
    return slug.capitalize()


def type_rank(slug: str) -> int:
    """1 (alpha) to 5 (omega)."""
    return TYPES.index(slug) + 1  # type: ignore[arg-type]
