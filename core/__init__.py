"""Torch-free, framework-free pieces the gateway, the model server and training share.

Imports nothing of ours: the upright face crop, the type/part/model names, and the typed answers
of every model-server handler (the gateway-model server contract).
"""
