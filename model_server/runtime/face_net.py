"""dlib's face network (``dlib_face_recognition_resnet_model_v1``) in torch, batched.

The same network as dlib's ``anet_type`` (``tools/python/src/face_recognition.cpp``): a 150 px
RGB chip, less dlib's mean colour and divided by 256; a 7x7/2 convolution with 32 filters, its
affine (dlib's trained batch norm), ReLU and a 3x3/2 max pool; residual blocks 3 x 32, 4 x 64,
3 x 128, 4 x 256, each level's first block going down (a 3x3/2 convolution, its input 2x2/2
average-pooled); the average of everything and a 128-d linear map without bias. Each block's
sum follows dlib's ``add_prev``: the smaller tensor is zero-padded to the larger (channels,
rows and columns, from the top left), which is what happens on the 256 levels' odd sizes.

Each affine is folded into its convolution (``conv.weight * gamma``, ``conv.bias * gamma +
beta``) when the weights are converted (:mod:`model_server.tools.dlib_weights`), so the module
is plain convolutions with biases. Every dlib convolution of stride 2 has no padding; stride 1
pads by half the kernel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

INPUT_SIZE = 150
MEAN_RGB = (122.782, 117.001, 104.298)  # input_rgb_image_sized's defaults, also in the .dat
# (channels, blocks) per level, bottom up; every level after the first starts going down, and
# the last 256 level is dlib's ``alevel0``: a single block going down.
LEVELS = ((32, 3), (64, 4), (128, 3), (256, 3), (256, 1))


def add_prev(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's ``add_prev``: the sum of two tensors, the smaller zero-padded to the larger."""
    if a.shape == b.shape:
        return a + b
    channels, rows, cols = (max(a.shape[i], b.shape[i]) for i in (1, 2, 3))

    def pad(t: torch.Tensor) -> torch.Tensor:
        return F.pad(t, (0, cols - t.shape[3], 0, rows - t.shape[2], 0, channels - t.shape[1]))

    return pad(a) + pad(b)


class Residual(nn.Module):
    """relu(add_prev(conv2(relu(conv1(x))), x or its 2x2/2 average when going down))."""

    def __init__(self, channels_in: int, channels: int, down: bool) -> None:
        super().__init__()
        self.down = down
        stride = 2 if down else 1
        self.conv1 = nn.Conv2d(channels_in, channels, 3, stride, padding=0 if down else 1)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.relu(self.conv1(x)))
        skip = F.avg_pool2d(x, 2, 2) if self.down else x
        return F.relu(add_prev(out, skip))


class FaceNet(nn.Module):
    """128-d face descriptors of aligned chips, as dlib's ``compute_face_descriptor``."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 7, 2, padding=0)
        blocks, channels_in = [], 32
        for level, (channels, count) in enumerate(LEVELS):
            for i in range(count):
                blocks.append(Residual(channels_in, channels, down=level > 0 and i == 0))
                channels_in = channels
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(256, 128, bias=False)
        self.register_buffer("mean", torch.tensor(MEAN_RGB).view(1, 3, 1, 1), persistent=False)

    def convs(self) -> list[nn.Conv2d]:
        """The convolutions in dlib's (bottom-up) order."""
        return [self.stem] + [c for b in self.blocks for c in (b.conv1, b.conv2)]  # type: ignore[union-attr]

    def forward(self, chips: torch.Tensor) -> torch.Tensor:
        """(n, 150, 150, 3) uint8 RGB chips -> (n, 128) descriptors."""
        x = (chips.permute(0, 3, 1, 2).float() - self.mean) / 256.0
        x = F.max_pool2d(F.relu(self.stem(x)), 3, 2)
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))

    @classmethod
    def load(cls, path: str | Path, device: torch.device | str = "cpu") -> FaceNet:
        """The network with converted weights (``dlib_weights.convert``), ready for inference."""
        net = cls()
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return net.to(device).eval()

    @torch.inference_mode()
    def embed(self, chips: np.ndarray) -> np.ndarray:
        """(n, 150, 150, 3) uint8 chips -> (n, 128) float64 descriptors, one forward pass."""
        device = self.mean.device
        return self(torch.from_numpy(np.ascontiguousarray(chips)).to(device)).double().cpu().numpy()
