"""Moved: the detector's dataset is :mod:`model_server.training.face_regions.data`, the London
set's people :mod:`model_server.training.london`.

Kept only because ``bench/face_floor.py`` imports ``person_of`` from here; remove once it
imports :func:`model_server.training.london.person_of`.
"""

from model_server.training.london import person_of

__all__ = ["person_of"]
