"""The region detector's checkpoint format, shared by training (writes) and serving (reads).

A checkpoint is a plain dict, loadable with ``torch.load(path, weights_only=True)``::

    {"model": state_dict, "backbone": str, "image_size": int, "meta": {...}}

Floating-point tensors may be stored in fp16 (half the size); :func:`load_checkpoint` casts them
back to fp32. ``meta["trained"]`` is False only for checkpoints made by
:func:`make_untrained_checkpoint`, whose outputs are meaningless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.parameters import CROP
from model_server.runtime.region_detector import DEFAULT_BACKBONE, build_detector

StateDict = dict[str, torch.Tensor]


@dataclass
class Checkpoint:
    """A loaded checkpoint: fp32 state dict plus what is needed to rebuild the detector."""

    state_dict: StateDict
    backbone: str = DEFAULT_BACKBONE
    image_size: int = CROP.size
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def trained(self) -> bool:
        return bool(self.meta.get("trained", True))

    def build_model(self) -> nn.Module:
        """The detector with these weights, in eval mode."""
        detector = dict(self.meta.get("detector") or {})
        model = build_detector(self.backbone, image_size=self.image_size, **detector)
        model.load_state_dict(self.state_dict)
        return model.eval()


def _cast(state_dict: StateDict, dtype: torch.dtype) -> StateDict:
    """Floating tensors to ``dtype``; integer buffers (e.g. BN counters) unchanged."""
    return {
        k: (v.detach().to("cpu", dtype) if v.is_floating_point() else v.detach().cpu())
        for k, v in state_dict.items()
    }


def save_checkpoint(
    path: str | Path,
    model: nn.Module | StateDict,
    *,
    backbone: str = DEFAULT_BACKBONE,
    image_size: int = CROP.size,
    meta: dict[str, Any] | None = None,
    half: bool = True,
) -> Path:
    """Write ``model`` (or its state dict) in the serving format; fp16 when ``half``."""
    state_dict = model.state_dict() if isinstance(model, nn.Module) else model
    payload = {
        "model": _cast(state_dict, torch.float16 if half else torch.float32),
        "backbone": backbone,
        "image_size": int(image_size),
        "meta": {"trained": True, **(meta or {})},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # readers never see a half-written file
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint safely (``weights_only=True``), weights cast to fp32."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or "model" not in payload:
        raise ValueError(f"{path}: not a region-detector checkpoint (no 'model' key)")
    return Checkpoint(
        state_dict=_cast(payload["model"], torch.float32),
        backbone=str(payload.get("backbone", DEFAULT_BACKBONE)),
        image_size=int(payload.get("image_size", CROP.size)),
        meta=dict(payload.get("meta") or {}),
    )


def make_untrained_checkpoint(
    path: str | Path,
    *,
    backbone: str = DEFAULT_BACKBONE,
    image_size: int = CROP.size,
    seed: int = 0,
) -> Path:
    """A randomly initialised (seeded) detector, marked untrained: for plumbing, not answers."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = build_detector(backbone, image_size=image_size)
    meta = {"trained": False, "seed": seed, "note": "UNTRAINED: outputs are meaningless"}
    return save_checkpoint(path, model, backbone=backbone, image_size=image_size, meta=meta)
