"""Six London photos and the type the committed type model serves each (person_photo -> type).

Held by the handler in process (tests/integration/training/test_type_model_card.py) and through the
real TorchServe (tests/integration/test_torchserve.py). Each is a clear answer far from a type's
bound: its margin is at least 3.5 noise units (the near threshold is 1.6), so a fresh install's
float noise cannot move it. The type model of issue 27 kept the earlier pins but 004_03, whose
gamma sits 3.0 units from a bound: 016_08 is the gamma farthest from one (3.8).
"""

from __future__ import annotations

PINNED = {
    "009_03": "alpha",
    "090_08": "beta",
    "081_08": "beta",
    "016_08": "gamma",
    "003_08": "delta",
    "031_03": "omega",
}
