"""Training of AlphaMale's two models, one package each, and their model cards.

``python -m model_server.training <subcommand>`` (:mod:`.__main__` lists them all):

- :mod:`.face_regions`: the part detector (Faster R-CNN): ``autolabel``, ``train``,
  ``evaluate``, ``archive``.
- :mod:`.face_type`: the type model (ridges on dlib face embeddings): ``labels``,
  ``type-model``, ``type-views``, ``face-net-parity``.
- :mod:`.cards`: ``MODEL_CARD.md`` rendered from the templates in ``cards/templates``: ``card``.
- :mod:`.london`: the London set's photos and people, which both read.
"""

from __future__ import annotations

from core.dataset import DATASET_ENV, default_dataset_dir

__all__ = ["DATASET_ENV", "default_dataset_dir"]
