"""Read dlib's serialized face network (the ``.dat`` of face_recognition_models) into torch.

    python -m model_server.tools.dlib_weights [--out var/face_net.pt]

dlib's serialization (``dlib/serialize.h``): integers in a compact form (a byte with the count
of little-endian bytes that follow, ``0x80`` for negative), floats as a mantissa and a power of
two (``dlib/float_details.h``), strings as a length and bytes, booleans as ``'0'``/``'1'``,
tensors (``dlib/cuda/tensor.h``, version 2) as four sizes and raw little-endian float32.

A network is written from the loss layer down: each wrapper (``add_layer``, tag, skip) writes
its version, then its sub-network, then (``add_layer`` only) its layer's details and state. So
the file is the loss, the wrappers' versions top-down, the input layer, and the layers' details
bottom-up: :func:`read_layers` returns those, and :func:`state_dict` maps them onto
:class:`~model_server.runtime.face_net.FaceNet`, checking every layer's kind and shape.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from model_server.paths import VAR_DIR
from model_server.runtime.embedding import model_file
from model_server.runtime.face_net import INPUT_SIZE, MEAN_RGB, FaceNet

DAT_NAME = "dlib_face_recognition_resnet_model_v1.dat"
CACHE = VAR_DIR / "face_net.pt"
FLOAT_SPECIAL = {32000: math.inf, 32001: -math.inf, 32002: math.nan}


class DlibFormatError(ValueError):
    """The file is not the dlib network this reader knows."""


@dataclass
class Layer:
    """One layer's details: its kind (``con``, ``affine``, ...) and what it holds."""

    kind: str
    version: str
    fields: dict[str, Any] = field(default_factory=dict)


class Reader:
    """dlib's primitive types, read from a byte buffer."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = memoryview(data), 0

    def take(self, count: int) -> memoryview:
        if self.pos + count > len(self.data):
            raise DlibFormatError(f"the file ends inside a value at byte {self.pos}")
        self.pos += count
        return self.data[self.pos - count : self.pos]

    def integer(self) -> int:
        head = self.take(1)[0]
        size = head & 0x0F
        if head & 0x70 or size > 8:
            raise DlibFormatError(f"not a dlib integer at byte {self.pos - 1}")
        value = int.from_bytes(self.take(size), "little")
        return -value if head & 0x80 else value

    def peek_integer(self) -> int:
        pos = self.pos
        value = self.integer()
        self.pos = pos
        return value

    def string(self) -> str:
        return bytes(self.take(self.integer())).decode("ascii", errors="replace")

    def boolean(self) -> bool:
        char = chr(self.take(1)[0])
        if char not in "01":
            raise DlibFormatError(f"not a dlib bool at byte {self.pos - 1}")
        return char == "1"

    def real(self) -> float:
        mantissa, exponent = self.integer(), self.integer()
        return (
            FLOAT_SPECIAL[exponent] if exponent in FLOAT_SPECIAL else math.ldexp(mantissa, exponent)
        )

    def shape(self, version: int) -> tuple[int, int, int, int]:
        if (found := self.integer()) != version:
            raise DlibFormatError(f"tensor version {found}, expected {version}")
        return tuple(self.integer() for _ in range(4))  # type: ignore[return-value]

    def tensor(self) -> np.ndarray:
        shape = self.shape(2)
        values = np.frombuffer(self.take(4 * math.prod(shape)), "<f4").reshape(shape)
        return values.astype(np.float32)

    def alias(self) -> tuple[int, int, int, int]:
        return self.shape(1)

    @property
    def done(self) -> bool:
        return self.pos == len(self.data)


def _pool(r: Reader) -> dict[str, Any]:
    nr, nc, sy, sx, py, px = (r.integer() for _ in range(6))
    return {"window": (nr, nc), "stride": (sy, sx), "padding": (py, px)}


def _con(r: Reader, version: str) -> dict[str, Any]:
    params = r.tensor()
    out = {"num_filters": r.integer(), **_pool(r)}
    filters, biases = r.alias(), r.alias()
    for _ in range(4):  # learning-rate and weight-decay multipliers
        r.real()
    use_bias = r.boolean() if version in ("con_5", "con_6") else True
    if version == "con_6":
        r.boolean()  # use_relu (a fused relu that dlib only sets when it fuses layers)
    size = math.prod(filters)
    return out | {
        "weight": params.reshape(-1)[:size].reshape(filters),
        "bias": params.reshape(-1)[size : size + math.prod(biases)] if use_bias else None,
    }


def _affine(r: Reader, version: str) -> dict[str, Any]:
    params, gamma, _beta = r.tensor().reshape(-1), r.alias(), r.alias()
    mode = r.integer()
    if version == "affine_2" and r.boolean():
        raise DlibFormatError("a disabled affine layer")
    channels = math.prod(gamma)
    return {"mode": mode, "gamma": params[:channels], "beta": params[channels : 2 * channels]}


def _fc(r: Reader, version: str) -> dict[str, Any]:
    outputs, inputs, params = r.integer(), r.integer(), r.tensor().reshape(-1)
    weights, _biases, bias_mode = r.alias(), r.alias(), r.integer()
    for _ in range(4):
        r.real()
    if version == "fc_3":
        r.boolean()
    return {
        "outputs": outputs,
        "inputs": inputs,
        "bias_mode": bias_mode,
        "weight": params[: math.prod(weights)].reshape(inputs, outputs),
    }


def _relu(r: Reader, version: str) -> dict[str, Any]:
    if version == "relu_2" and r.boolean():
        raise DlibFormatError("a disabled relu layer")
    return {}


READERS = {
    "con": _con,
    "affine": _affine,
    "fc": _fc,
    "relu": _relu,
    "max_pool": lambda r, _v: _pool(r),
    "avg_pool": lambda r, _v: _pool(r),
    "add_prev": lambda _r, _v: {},
}
VERSIONS = {
    "con": ("con_4", "con_5", "con_6"),
    "affine": ("affine_", "affine_2"),
    "fc": ("fc_2", "fc_3"),
    "relu": ("relu_", "relu_2"),
    "max_pool": ("max_pool_2",),
    "avg_pool": ("avg_pool_2",),
    "add_prev": ("add_prev_",),
}
KIND_OF = {v: kind for kind, versions in VERSIONS.items() for v in versions}


def _layer(r: Reader) -> Layer:
    version = r.string()
    if version not in KIND_OF:
        raise DlibFormatError(f"unknown layer {version!r} at byte {r.pos}")
    kind = KIND_OF[version]
    return Layer(kind, version, READERS[kind](r, version))


def _layer_state(r: Reader, input_level_version: int | None) -> None:
    """What ``add_layer`` writes after its details (empty tensors in a saved network)."""
    for _ in range(3):
        r.boolean()
    r.tensor()  # x_grad
    r.tensor()  # cached_output
    r.tensor()  # params_grad, or grad_final at the input level
    if input_level_version is not None and input_level_version >= 3:
        r.integer()  # sample expansion factor


def read_layers(data: bytes) -> tuple[dict[str, Any], list[Layer]]:
    """(the loss and input layers' settings, the layers bottom-up) of a dlib metric network."""
    r = Reader(data)
    if r.integer() != 1:
        raise DlibFormatError("not a dlib add_loss_layer (version 1)")
    loss = r.string()
    if loss == "loss_metric_2":
        r.real(), r.real()  # margin, distance threshold
    elif loss != "loss_metric_":
        raise DlibFormatError(f"not a metric network: {loss!r}")
    wrappers = []
    while r.peek_integer() in (1, 2, 3):  # versions; the input layer's name is 21 long
        wrappers.append(r.integer())
    if (name := r.string()) != "input_rgb_image_sized":
        raise DlibFormatError(f"unexpected input layer {name!r}")
    mean = tuple(r.real() for _ in range(3))
    size = (r.integer(), r.integer())
    layers = [_layer(r)]
    _layer_state(r, wrappers[-1])
    while not r.done:
        layers.append(_layer(r))
        _layer_state(r, None)
    return {"loss": loss, "wrappers": len(wrappers), "mean": mean, "size": size}, layers


def expected_kinds() -> list[str]:
    """The layer kinds of :class:`FaceNet`, bottom-up, as dlib writes them."""
    kinds = ["con", "affine", "relu", "max_pool"]
    for block in FaceNet().blocks:
        kinds += ["con", "affine", "relu", "con", "affine"]
        kinds += ["avg_pool", "add_prev", "relu"] if block.down else ["add_prev", "relu"]  # type: ignore[union-attr]
    return [*kinds, "avg_pool", "fc"]


def state_dict(data: bytes) -> dict[str, torch.Tensor]:
    """FaceNet's weights from the ``.dat``, each affine folded into its convolution."""
    meta, layers = read_layers(data)
    if meta["size"] != (INPUT_SIZE, INPUT_SIZE):
        raise DlibFormatError(f"input size {meta['size']}, expected {INPUT_SIZE}")
    if not np.allclose(meta["mean"], MEAN_RGB, atol=1e-3):
        raise DlibFormatError(f"input mean {meta['mean']}, expected {MEAN_RGB}")
    kinds = [layer.kind for layer in layers]
    if kinds != expected_kinds():
        raise DlibFormatError("the layers are not dlib_face_recognition_resnet_model_v1's")
    net = FaceNet()
    convs = [layer for layer in layers if layer.kind == "con"]
    affines = [layer for layer in layers if layer.kind == "affine"]
    names = {id(m): name for name, m in net.named_modules()}
    out: dict[str, torch.Tensor] = {}
    for module, con, affine in zip(net.convs(), convs, affines, strict=True):
        weight, bias = con.fields["weight"], con.fields["bias"]
        if weight.shape != tuple(module.weight.shape) or affine.fields["mode"] != 0:
            raise DlibFormatError(f"{names[id(module)]}: {weight.shape} vs {module.weight.shape}")
        if con.fields["stride"] != module.stride or con.fields["padding"] != module.padding:
            raise DlibFormatError(f"{names[id(module)]}: stride or padding differ")
        gamma, beta = affine.fields["gamma"], affine.fields["beta"]
        bias = np.zeros(len(gamma), np.float32) if bias is None else bias
        out[f"{names[id(module)]}.weight"] = torch.from_numpy(weight * gamma[:, None, None, None])
        out[f"{names[id(module)]}.bias"] = torch.from_numpy(bias * gamma + beta)
    fc = layers[-1].fields
    if (fc["inputs"], fc["outputs"], fc["bias_mode"]) != (256, 128, 1):
        raise DlibFormatError("the last layer is not a 256 -> 128 fc without bias")
    out["fc.weight"] = torch.from_numpy(np.ascontiguousarray(fc["weight"].T))
    return out


def convert(out: Path, dat: Path | None = None) -> Path:
    """Write FaceNet's state dict converted from ``dat`` (face_recognition_models' by default);
    atomically, so concurrent readers never see half a file."""
    weights = state_dict((dat or model_file(DAT_NAME)).read_bytes())
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    torch.save(weights, partial)
    partial.replace(out)
    return out


def converted(out: Path = CACHE) -> Path:
    """The converted weights at ``out`` (``var/face_net.pt``), converted when missing or older
    than the installed ``.dat`` (about 3 s)."""
    dat = model_file(DAT_NAME)
    if not out.is_file() or out.stat().st_mtime < dat.stat().st_mtime:
        convert(out, dat)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dat", type=Path, default=None, help="default: face_recognition_models'")
    parser.add_argument("--out", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    print(f"{convert(args.out, args.dat)} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
