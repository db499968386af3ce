"""AlphaMale model-serving side: TorchServe handlers, region detector and training pipeline.

Imports torch/torchvision; never imports `gateway` or `db`.
"""
