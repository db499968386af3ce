"""The region detector's label numbering: background and the three face parts.

Label = 1 + part_index (0 is background): 1 the whole face, 2 the T-zone, 3 the jaw. The
detector finds parts only; what type a part shows is the type model's answer
(:mod:`model_server.runtime.type_model`).
"""

from __future__ import annotations

from core.taxonomy import PARTS

NUM_CLASSES = 1 + len(PARTS)  # 4 with background


def encode_label(part_index: int) -> int:
    """Detector class of a part."""
    if not 0 <= part_index < len(PARTS):
        raise ValueError(f"part {part_index} out of range")
    return 1 + part_index


def decode_label(label: int) -> int:
    """Part index of a foreground detector class."""
    if not 1 <= label < NUM_CLASSES:
        raise ValueError(f"label {label} is not a foreground class")
    return label - 1
