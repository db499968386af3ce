"""The type model's training: ridges on dlib face embeddings, judged by person-grouped CV.

- :mod:`.ratings`: survey ratings -> mean per face -> types by the seed's quotas (``labels``).
- :mod:`.data`: each photo's served features and its person's target.
- :mod:`.train`: the ridges and the served artefact (``type_model.json``).
- :mod:`.evaluate`: person-grouped CV, the combinations, the permutation null.
- :mod:`.stability`: one photo under hard variants; a person's two photos.
- :mod:`.plots`: predicted vs rated, the null.
- :mod:`.views`: which views the served features average (``type-views``).
- :mod:`.face_net_parity`: the torch face network against dlib's (``face-net-parity``).
- :mod:`.cli`: ``labels`` and ``type-model``.
"""
