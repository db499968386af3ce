"""The served models, managed through TorchServe's management API."""
