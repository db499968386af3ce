"""The torch port of dlib's face network: the reader of dlib's serialization, and parity with
dlib-bin on chips made here and on London chips."""

from __future__ import annotations

import math
from pathlib import Path

import dlib
import numpy as np
import pytest
import torch

from core.parameters import CROP
from model_server.runtime.embedding import FaceEmbedder, model_file
from model_server.runtime.face_net import FaceNet, add_prev
from model_server.tools import dlib_weights
from model_server.tools.dlib_weights import DAT_NAME, DlibFormatError, Reader, converted


@pytest.fixture(scope="module")
def net() -> FaceNet:
    return FaceNet.load(converted())


@pytest.fixture(scope="module")
def reference() -> dlib.face_recognition_model_v1:
    return dlib.face_recognition_model_v1(str(model_file(DAT_NAME)))


def chips_made_here(count: int = 4) -> np.ndarray:
    """150 px RGB chips: gradients, noise and blocks (no face needed to compare two networks)."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:150, 0:150]
    gradient = np.stack([x * 1.7, y * 1.7, (x + y) * 0.85], axis=-1)
    blocks = np.kron(rng.integers(0, 256, (15, 15, 3)), np.ones((10, 10, 1)))
    noise = rng.integers(0, 256, (150, 150, 3))
    smooth = 128 + 100 * np.sin(np.stack([x / 9, y / 13, (x - y) / 17], axis=-1))
    return np.stack([gradient, blocks, noise, smooth][:count]).clip(0, 255).astype(np.uint8)


def agreement(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, float]:
    cosine = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    return float(np.abs(ours - theirs).max()), float(cosine.min())


def test_the_reader_decodes_dlibs_compact_integers_floats_strings_and_bools() -> None:
    # 0 -> 01 00; 300 -> 02 2c 01; -5 -> 81 05; "ab" -> 01 02 'a' 'b'; True -> '1'
    # 1.5 = 3 * 2^-1: mantissa 3, exponent -1
    reader = Reader(bytes([1, 0, 2, 0x2C, 1, 0x81, 5, 1, 2]) + b"ab1" + bytes([1, 3, 0x81, 1]))
    assert [reader.integer(), reader.integer(), reader.integer()] == [0, 300, -5]
    assert reader.string() == "ab" and reader.boolean() is True
    assert reader.real() == 1.5 and reader.done
    assert math.isinf(Reader(bytes([1, 0, 2, 0, 0x7D])).real())  # exponent 32000: infinity


def test_the_converted_weights_describe_the_whole_network() -> None:
    meta, layers = dlib_weights.read_layers(model_file(DAT_NAME).read_bytes())
    assert meta["loss"].startswith("loss_metric") and meta["size"] == (150, 150)
    assert [layer.kind for layer in layers] == dlib_weights.expected_kinds()
    state = torch.load(converted(), weights_only=True)
    assert set(state) == set(FaceNet().state_dict())


def test_a_file_that_is_not_this_network_is_refused() -> None:
    data = model_file(DAT_NAME).read_bytes()
    with pytest.raises(DlibFormatError):
        dlib_weights.state_dict(data[: len(data) // 2])
    with pytest.raises(DlibFormatError):
        dlib_weights.state_dict(model_file("shape_predictor_5_face_landmarks.dat").read_bytes())


def test_dlibs_add_prev_zero_pads_the_smaller_tensor() -> None:
    a, b = torch.ones(1, 4, 3, 3), torch.ones(1, 2, 4, 4)
    total = add_prev(a, b)
    assert total.shape == (1, 4, 4, 4)
    assert total[0, :2, :3, :3].eq(2).all() and total[0, 2:, 3].eq(0).all()
    assert total[0, :2, 3].eq(1).all() and total[0, 2:, :3, :3].eq(1).all()


def test_torch_and_dlib_give_the_same_descriptors_on_chips_made_here(
    net: FaceNet, reference: dlib.face_recognition_model_v1
) -> None:
    chips = chips_made_here()
    ours = net.embed(chips)
    theirs = np.array([reference.compute_face_descriptor(chip.copy()) for chip in chips])
    worst_abs, worst_cos = agreement(ours, theirs)
    assert worst_abs < 1e-4 and worst_cos >= 0.9999


def test_a_batch_gives_each_chip_what_it_gets_alone(net: FaceNet) -> None:
    chips = chips_made_here()
    alone = np.concatenate([net.embed(chip[None]) for chip in chips])
    assert np.allclose(net.embed(chips), alone, atol=1e-5)


@pytest.mark.dataset
def test_torch_and_dlib_agree_on_london_region_chips(
    dataset_dir: Path, net: FaceNet, reference: dlib.face_recognition_model_v1
) -> None:
    from PIL import Image

    from model_server.runtime.face_detector import FaceDetector
    from model_server.training.face_type.stability import crop_of

    embedder, detector = FaceEmbedder(converted()), FaceDetector()
    for name in ("002_03.jpg", "173_08.jpg"):
        image = Image.open(dataset_dir / "images" / name).convert("RGB")
        chips = embedder.face_chips(crop_of(image, detector.detect([image])[0][0]), CROP.margin)
        theirs = np.array([reference.compute_face_descriptor(chip.copy()) for chip in chips])
        worst_abs, worst_cos = agreement(net.embed(chips), theirs)
        assert worst_abs < 1e-4 and worst_cos >= 0.9999
