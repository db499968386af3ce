"""Training of AlphaMale's two models, one package each.

``python -m model_server.training <subcommand>`` (:mod:`.__main__` lists them all):

- :mod:`.face_regions`: the part detector (Faster R-CNN): ``autolabel``, ``train``,
  ``evaluate``, ``archive``.
- :mod:`.face_type`: the type model (ridges on dlib face embeddings): ``labels``,
  ``type-model``, ``type-views``, ``face-net-parity``.
- ``card``: ``MODEL_CARD.md``, rendered by :mod:`model_server.cards` (which the archive tool
  reads too, so it lives beside training, not in it).
- :mod:`.london`: the London set's photos and people, which both read.
"""

from __future__ import annotations

from core.dataset import DATASET_ENV, default_dataset_dir

__all__ = ["DATASET_ENV", "default_dataset_dir"]
