"""AlphaMale's model-serving side: the runtime TorchServe loads, the tools around it, training.

``runtime`` ships whole into each archive; ``tools`` (archive, serve) and ``training`` import it,
never the other way round. Imports torch/torchvision; never ``gateway`` or ``db``.
"""
