"""The type model's training: ridges on dlib face embeddings, judged by person-grouped CV.

- :mod:`.ratings`: survey ratings -> mean per face -> types by the seed's quotas (``labels``).
- :mod:`.data`: each photo's served features and its person's target.
- :mod:`.train`: the ridges (scikit-learn) and their person-grouped folds.
- :mod:`.stable_ridge`: the ridge with the stability penalty, in closed form over many targets.
- :mod:`.evaluate`: person-grouped CV, the combinations, the permutation null.
- :mod:`.edits`, :mod:`.variant_features`: the photo edits; every photo under them, cached
  (``type-variants``).
- :mod:`.steady_fit`, :mod:`.steadiness`, :mod:`.steady_eval`: out-of-fold values of one to three
  photos under the edits; noise, margin, near threshold; the figures with their null.
- :mod:`.choose`: the penalty and rule, chosen on the choosing half (``type-choose``).
- :mod:`.identity_check`: the descriptor distance that tells one person from two.
- :mod:`.served`: the served artefact (``type_model.json``).
- :mod:`.stability`: one photo through the served path under the fitting edits; expression pairs.
- :mod:`.plots`: predicted vs rated, the null, type changes against the margin.
- :mod:`.views`: which views the served features average (``type-views``).
- :mod:`.face_net_parity`: the torch face network against dlib's (``face-net-parity``).
- :mod:`.cli`: ``labels`` and ``type-model``.
"""
