"""The serving runtime: what ships whole into every .mar (handlers, detector, scoring).

Imports torch, torchvision and ``core``; never training, tools, gateway or db.
"""
