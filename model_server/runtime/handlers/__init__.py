"""TorchServe handlers: one module per archive, each defining its one handler class.

- :mod:`.face_check`: ``FaceCheckHandler``, every face in a photo (MTCNN).
- :mod:`.face_regions`: ``FaceRegionsHandler``, where the three face parts are on a crop.
- :mod:`.face_type`: ``FaceTypeHandler``, each part's type and the served type.

A handler module is the archive's ``--handler`` entry point: TorchServe loads the one class it
defines (importing more is fine: a class counts where it is defined). What they share is in
:mod:`.base` (``ImageHandler``, the per-request errors and decoding); this package re-exports
nothing.
"""
