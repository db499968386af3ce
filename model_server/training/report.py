"""Moved: the model cards are :mod:`model_server.training.cards`.

Kept only because ``model_server/tools/archive.py`` imports ``checkpoint_card`` from here;
remove once it imports :func:`model_server.training.cards.detector_card.checkpoint_card`.
"""

from model_server.training.cards.detector_card import checkpoint_card

__all__ = ["checkpoint_card"]
