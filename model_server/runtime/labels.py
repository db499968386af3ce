"""The region detector's label numbering over core's five types and three face parts.

Label = 1 + 3 * type_index + part_index (0 is background), so 1, 4, 7, 10, 13 are the whole
face of alpha..omega, 2, 5, ... the T-zone and 3, 6, ... the jaw.
"""

from __future__ import annotations

from core.taxonomy import PARTS, TYPES

NUM_CLASSES = 1 + len(TYPES) * len(PARTS)  # 16 with background


def encode_label(type_index: int, part_index: int) -> int:
    """Detector class for a (type, part) pair."""
    if not (0 <= type_index < len(TYPES) and 0 <= part_index < len(PARTS)):
        raise ValueError(f"type {type_index} / part {part_index} out of range")
    return 1 + len(PARTS) * type_index + part_index


def decode_label(label: int) -> tuple[int, int]:
    """(type_index, part_index) of a foreground detector class."""
    if not 1 <= label < NUM_CLASSES:
        raise ValueError(f"label {label} is not a foreground class")
    return divmod(label - 1, len(PARTS))
