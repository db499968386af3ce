"""Named transform presets (torchvision ``transforms.v2``): boxes follow every geometric change.

Presets take ``(image, target)`` with ``target["boxes"]`` a ``tv_tensors.BoundingBoxes`` (XYXY)
and return a float image in [0, 1] plus the updated target:

- ``train``: in-the-wild augmentation for selfies that differ from studio shots: horizontal flip,
  small rotation / scale / translation, colour, brightness and contrast jitter, low light,
  grayscale, blur, JPEG recompression, sensor noise, partial occlusion.
- ``eval`` / ``none``: conversion only.
- ``blur``, ``low_light``, ``jpeg``, ``rotation``, ``occlusion``, ``wild``: fixed, harder
  perturbations for evaluation, deterministic per ``target["image_id"]``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

Target = dict[str, Any]
Pair = tuple[torch.Tensor, Target]


class LowLight(torch.nn.Module):
    """Darken (gain in ``gain``), add a gamma curve and shot noise: a dim indoor photo."""

    def __init__(
        self,
        gain: tuple[float, float] = (0.25, 0.7),
        gamma: tuple[float, float] = (1.0, 1.6),
        noise: float = 0.03,
        p: float = 1.0,
    ) -> None:
        super().__init__()
        self.gain, self.gamma, self.noise, self.p = gain, gamma, noise, p

    def forward(self, image: torch.Tensor, target: Target) -> Pair:
        if random.random() >= self.p:
            return image, target
        gain = random.uniform(*self.gain)
        gamma = random.uniform(*self.gamma)
        out = image.clamp(0, 1).pow(gamma) * gain
        out = out + torch.randn_like(out) * self.noise * random.random()
        return tv_tensors.wrap(out.clamp(0, 1), like=image), target


class Occlude(torch.nn.Module):
    """Cover a random rectangle (``area`` of the image) with a flat or noisy patch."""

    def __init__(self, area: tuple[float, float] = (0.04, 0.15), p: float = 0.5) -> None:
        super().__init__()
        self.area, self.p = area, p

    def forward(self, image: torch.Tensor, target: Target) -> Pair:
        if random.random() >= self.p:
            return image, target
        _, h, w = image.shape
        frac = random.uniform(*self.area)
        aspect = random.uniform(0.4, 2.5)
        ph = min(h, max(1, round((frac * h * w / aspect) ** 0.5)))
        pw = min(w, max(1, round((frac * h * w * aspect) ** 0.5)))
        y, x = random.randint(0, h - ph), random.randint(0, w - pw)
        out = image.clone()
        if random.random() < 0.5:
            out[:, y : y + ph, x : x + pw] = torch.rand(3, 1, 1)
        else:
            out[:, y : y + ph, x : x + pw] = torch.rand(3, ph, pw)
        return tv_tensors.wrap(out, like=image), target


class Seeded(torch.nn.Module):
    """Run ``inner`` with Python's and torch's RNG seeded from the target's image id."""

    def __init__(self, inner: Callable[..., Pair], seed: int = 0) -> None:
        super().__init__()
        self.inner, self.seed = inner, seed

    def forward(self, image: Any, target: Target) -> Pair:
        key = self.seed * 1_000_003 + int(target.get("image_id", 0))
        py_state, torch_state = random.getstate(), torch.get_rng_state()
        random.seed(key)
        torch.manual_seed(key)
        try:
            return self.inner(image, target)
        finally:
            random.setstate(py_state)
            torch.set_rng_state(torch_state)


def _convert() -> list[torch.nn.Module]:
    return [v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]


def _finish() -> list[torch.nn.Module]:
    return [v2.ClampBoundingBoxes(), v2.SanitizeBoundingBoxes(min_size=4)]


def train_preset() -> v2.Compose:
    """In-the-wild augmentation (studio crops -> selfie-like crops), boxes kept right."""
    return v2.Compose(
        [
            v2.ToImage(),
            v2.RandomHorizontalFlip(0.5),
            v2.RandomApply(
                [v2.RandomAffine(degrees=8, translate=(0.06, 0.06), scale=(0.85, 1.15))], p=0.7
            ),
            v2.RandomApply(
                [v2.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.05)], p=0.8
            ),
            v2.RandomGrayscale(0.1),
            v2.RandomApply([v2.GaussianBlur(kernel_size=9, sigma=(0.3, 3.0))], p=0.25),
            v2.RandomApply([v2.JPEG((15, 90))], p=0.35),
            v2.ToDtype(torch.float32, scale=True),
            LowLight(p=0.2),
            v2.RandomApply([v2.GaussianNoise(sigma=0.04)], p=0.2),
            Occlude(p=0.3),
            *_finish(),
        ]
    )


def eval_preset() -> v2.Compose:
    return v2.Compose([*_convert(), *_finish()])


def _rotate(degrees: float) -> v2.RandomChoice:
    """Rotate by exactly +-``degrees`` (sign from the RNG); boxes become the rotated hulls."""
    return v2.RandomChoice(
        [v2.RandomAffine(degrees=(degrees, degrees)), v2.RandomAffine(degrees=(-degrees, -degrees))]
    )


PERTURBATIONS: dict[str, Callable[[], list[torch.nn.Module]]] = {
    "blur": lambda: [v2.GaussianBlur(kernel_size=13, sigma=3.0)],
    "low_light": lambda: [
        v2.ToDtype(torch.float32, scale=True),
        LowLight(gain=(0.3, 0.3), gamma=(1.5, 1.5), noise=0.04),
    ],
    "jpeg": lambda: [v2.JPEG(12)],
    "rotation": lambda: [_rotate(12.0)],
    "occlusion": lambda: [v2.ToDtype(torch.float32, scale=True), Occlude((0.12, 0.12), p=1.0)],
    "wild": lambda: [
        v2.GaussianBlur(kernel_size=9, sigma=1.5),
        v2.JPEG(25),
        _rotate(8.0),
        v2.ToDtype(torch.float32, scale=True),
        LowLight(gain=(0.5, 0.5), gamma=(1.3, 1.3), noise=0.03),
        Occlude((0.06, 0.06), p=1.0),
    ],
}


def perturbation_preset(name: str, seed: int = 0) -> Callable[..., Pair]:
    inner = v2.Compose([v2.ToImage(), *PERTURBATIONS[name](), *_convert()[1:], *_finish()])
    return Seeded(inner, seed)


PRESETS: dict[str, Callable[[], Callable[..., Pair]]] = {
    "train": train_preset,
    "eval": eval_preset,
    "none": eval_preset,
    **{name: (lambda n=name: perturbation_preset(n)) for name in PERTURBATIONS},
}


def get_transform(name: str) -> Callable[..., Pair]:
    """A preset by name (see the module docstring)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return PRESETS[name]()
