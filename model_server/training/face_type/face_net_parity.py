"""The torch face network against dlib's own, on the London photos' served chips.

    python -m model_server.training face-net-parity

For every London photo: MTCNN's largest face, the gateway's upright crop, and the chips the
artefact's features make of it (its aligned chip and its mirror image's, and the T-zone and jaw
versions of each: 6 chips a photo). Each chip
is embedded by dlib-bin (``compute_face_descriptor``) and by
:class:`~model_server.runtime.face_net.FaceNet`; the figures are the largest absolute difference
and the smallest cosine between the two descriptors, and how often the committed type model
gives a photo the same served type from either network's features. Written to
``model_server/weights/eval/face_net_parity.json`` for the model card.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import dlib
import numpy as np
from PIL import Image
from tqdm import tqdm

from core.dataset import default_dataset_dir
from core.parameters import CROP
from core.taxonomy import PARTS
from model_server.paths import EVAL_DIR, WEIGHTS_DIR
from model_server.runtime.embedding import FaceEmbedder, Features, model_file
from model_server.runtime.face_detector import FaceDetector
from model_server.runtime.type_model import TypeModel
from model_server.tools.dlib_weights import DAT_NAME, converted
from model_server.training import london
from model_server.training.face_type.data import save_json
from model_server.training.face_type.stability import crop_of


def parity(photos: list[Path], artefact: Path) -> dict[str, Any]:
    """Descriptor differences and served-type agreement between dlib-bin and the torch port."""
    body = json.loads(artefact.read_text())
    features = Features.from_meta(body.get("meta", {}).get("features", {}))
    detector, embedder = FaceDetector(), FaceEmbedder(converted(), features)
    reference = dlib.face_recognition_model_v1(str(model_file(DAT_NAME)))
    model = TypeModel(body)
    worst_abs, worst_cos, same, counted, dlib_s, torch_s = 0.0, 1.0, 0, 0, 0.0, 0.0
    for path in tqdm(photos, desc="parity", unit="photo"):
        image = Image.open(path).convert("RGB")
        faces = detector.detect([image])[0]
        if not faces:
            continue
        chips = embedder.face_chips(crop_of(image, faces[0]), CROP.margin)
        started = time.perf_counter()
        ours = embedder.net.embed(chips)
        torch_s += time.perf_counter() - started
        started = time.perf_counter()
        theirs = np.array(
            [reference.compute_face_descriptor(np.ascontiguousarray(c)) for c in chips]
        )
        dlib_s += time.perf_counter() - started
        worst_abs = max(worst_abs, float(np.abs(ours - theirs).max()))
        cosine = (
            (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
        )
        worst_cos = min(worst_cos, float(cosine.min()))
        types = [
            model.predict(
                dict(zip(PARTS, v.reshape(-1, len(PARTS), 128).mean(0), strict=True))
            ).type
            for v in (ours, theirs)
        ]
        same += types[0] == types[1]
        counted += 1
    return {
        "photos": counted,
        "chips": counted * embedder.features.chips_per_face,
        "max_abs_difference": float(f"{worst_abs:.3g}"),
        "min_cosine": round(worst_cos, 9),
        "same_served_type": round(same / max(1, counted), 4),
        "ms_per_photo": {
            "dlib": round(1000 * dlib_s / max(1, counted), 1),
            "torch": round(1000 * torch_s / max(1, counted), 1),
        },
    }


def get_args_parser(add_help: bool = True) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, add_help=add_help)
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--artefact", type=Path, default=WEIGHTS_DIR / "type_model.json")
    p.add_argument("--out", type=Path, default=EVAL_DIR / "face_net_parity.json")
    p.add_argument("--limit-photos", type=int, default=0, help="first N photos (tests)")
    return p


def main(args: argparse.Namespace) -> dict[str, Any]:
    photos = london.photos(args.dataset_dir, args.limit_photos)
    figures = parity(photos, args.artefact)
    save_json(args.out, figures)
    print(json.dumps(figures, indent=1))
    return figures
