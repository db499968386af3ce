"""Moved: the type model's stability is :mod:`model_server.training.face_type.stability`.

Kept only because ``tests/unit/model_server/test_face_net.py`` imports ``crop_of`` from here;
remove once it imports it from :mod:`model_server.training.face_type.stability`.
"""

from model_server.training.face_type.stability import crop_of

__all__ = ["crop_of"]
