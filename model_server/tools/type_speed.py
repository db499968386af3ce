"""Time the ``face_type`` handler in this process: one, two and three crops of one person.

    python -m model_server.tools.type_speed [--runs 30]

Each request goes through ``handle`` as in a TorchServe worker (one torch thread): one crop as
raw bytes, two and three as a ``TypeRequest`` (JSON, base64). Also timed: one crop's embedding
as before issue 27 (six region chips) and now (and the descriptor's plain chip), to see what the
descriptor costs a single photo. Medians in ms, and each count's ratio to one crop.
Interleave nothing else on the machine: the figures are wall time.
"""

from __future__ import annotations

import argparse
import base64
import io
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.crop import upright_crop
from core.dataset import default_dataset_dir
from core.parameters import CROP
from model_server.paths import WEIGHTS_DIR
from model_server.runtime.face_detector import FaceDetector
from model_server.runtime.handlers.face_type import FaceTypeHandler
from model_server.tools.dlib_weights import converted
from model_server.tools.worker_context import local_context, model_config

PHOTOS = ("001_03", "001_08", "002_03")


def crops(dataset_dir: Path) -> list[bytes]:
    """The gateway's crops (JPEG 92) of three London photos."""
    detector, out = FaceDetector(), []
    for name in PHOTOS:
        image = Image.open(dataset_dir / "images" / f"{name}.jpg").convert("RGB")
        face = detector.detect([image])[0][0]
        crop = upright_crop(image, face.box, face.landmarks[0], face.landmarks[1]).image
        buffer = io.BytesIO()
        crop.save(buffer, "JPEG", quality=92)
        out.append(buffer.getvalue())
    return out


def median_ms(calls: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Each call's median wall time (ms), the calls interleaved run by run (a load that comes
    and goes on the machine weighs on all of them alike)."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call()
    for _ in range(runs):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, add_help=add_help)
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--runs", type=int, default=30)
    return p


def main(args: argparse.Namespace) -> dict[str, float]:
    context = local_context(
        "face_type", WEIGHTS_DIR, model_config("face_type", face_net=str(converted())),
        "type_model.json",
    )  # fmt: skip
    handler = FaceTypeHandler()
    handler.initialize(context)
    torch.set_num_threads(1)
    raw = crops(args.dataset_dir)
    encoded = [base64.b64encode(crop).decode() for crop in raw]
    requests = {
        "1 crop": [{"body": raw[0]}],
        "2 crops": [{"body": {"crops": encoded[:2]}}],
        "3 crops": [{"body": {"crops": encoded}}],
    }
    image = Image.open(io.BytesIO(raw[0])).convert("RGB")
    embedder = handler.embedder

    def embed(descriptor: bool) -> np.ndarray:
        return embedder.net.embed(embedder.face_chips(image, CROP.margin, descriptor))

    calls: dict[str, Callable[[], object]] = {
        "embed one crop, 6 chips (before)": lambda: embed(False),
        "embed one crop, 7 chips (now)": lambda: embed(True),
    }
    for name, request in requests.items():
        calls[f"handle {name}"] = lambda r=request: handler.handle(r, context)
    figures = median_ms(calls, args.runs)
    one = figures["handle 1 crop"]
    for name, ms in figures.items():
        ratio = f"  ({ms / one:.2f}x one crop)" if name.startswith("handle") else ""
        print(f"  {name:<34} {ms:7.1f} ms{ratio}")
    return figures


if __name__ == "__main__":
    main(get_args_parser().parse_args())
