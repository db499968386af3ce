"""AlphaMale's model-serving side: the runtime TorchServe loads, the tools around it, training.

``runtime`` ships whole into each archive. Above it, in layers (an import-linter contract in
``pyproject.toml`` keeps them so): ``cards`` (the model cards), ``tools`` (archive, serve, the
face network's converter), then ``training``, which uses all three; each imports only the layers
below it, so no package imports another back. ``paths`` (where the files are) is for all but the
runtime. Imports torch/torchvision; never ``gateway`` or ``db``.
"""
