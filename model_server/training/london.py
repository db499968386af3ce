"""The Face Research Lab London Set as both models' training reads it: its photos, its people.

Photos are ``images/PPP_NN.jpg`` (person ``PPP``, ``_03`` neutral, ``_08`` smiling); the survey
(``ratings.csv``, ``faces_info.csv``) is read by :mod:`model_server.training.face_type.ratings`.
"""

from __future__ import annotations

from pathlib import Path

ATTRIBUTION = (
    "DeBruine, L. & Jones, B. (2017). Face Research Lab London Set. figshare. "
    "doi:10.6084/m9.figshare.5047666.v5 (CC BY 4.0)"
)


def require_dataset(dataset_dir: Path) -> Path:
    if not (dataset_dir / "images").is_dir():
        raise SystemExit(
            f"dataset not found at {dataset_dir}: set ALPHAMALE_DATASET_DIR or --dataset-dir "
            "(the London set lives in ../shared/datasets/london-faces)"
        )
    return dataset_dir


def photos(dataset_dir: Path, limit: int = 0) -> list[Path]:
    """The set's photos in name order (the first ``limit`` when given)."""
    return sorted((dataset_dir / "images").glob("*.jpg"))[: limit or None]


def person_of(file_name: str) -> str:
    """``"001_03.jpg"`` -> ``"001"``."""
    return Path(file_name).stem.split("_")[0]
