"""The part detector's training: Faster R-CNN finding the face, its T-zone and its jaw.

- :mod:`.autolabel`: boxes from MTCNN's landmarks (``autolabel``, in :mod:`.cli`).
- :mod:`.data`: the crops as a detection dataset, split by person.
- :mod:`.transforms`: the named transform presets (training augmentation, fixed perturbations).
- :mod:`.engine`: ``train_one_epoch`` and ``evaluate``.
- :mod:`.train`: ``train`` (``get_args_parser`` + ``main``, resumable, seeded).
- :mod:`.evaluate`: ``evaluate``, a checkpoint on its held-out people.
- :mod:`.cli`: ``autolabel`` and ``archive``.
"""
