"""Can a pretrained face feature predict the raters' tiers? A cheap attempt to beat chance.

The detector is trained from scratch and its type output stays at chance. The only pretrained
face network we have without a download is MTCNN's ONet (shipped in the facenet-pytorch wheel):
this probe takes its 256-d penultimate features of each upright face crop, fits ridge
regressions to the mean rating (z-scored within sex, as the labels are ranked within sex) on the
training people, and reports the Pearson correlation on the held-out people.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from core.crop import upright_crop
from model_server.runtime.face_detector import FaceDetector
from model_server.training.labels import read_faces_info, read_mean_ratings

ONET_SIZE = 48
LAMBDAS = (1.0, 10.0, 100.0, 1000.0)


@torch.inference_mode()
def onet_features(detector: FaceDetector, image: Image.Image) -> np.ndarray | None:
    """ONet's 256-d penultimate activation for the largest face, None without a face."""
    faces = detector.detect([image])[0]
    if not faces:
        return None
    face = faces[0]
    crop = upright_crop(
        image, face.box, face.landmarks[0], face.landmarks[1], margin=0.0, size=ONET_SIZE
    )
    x = torch.tensor(np.asarray(crop.image), dtype=torch.float32).permute(2, 0, 1)[None]
    onet = detector.mtcnn.onet
    h = (x - 127.5) * 0.0078125  # MTCNN's own input scaling
    for conv, act, pool in (
        (onet.conv1, onet.prelu1, onet.pool1),
        (onet.conv2, onet.prelu2, onet.pool2),
        (onet.conv3, onet.prelu3, onet.pool3),
    ):
        h = pool(act(conv(h)))
    h = onet.prelu4(onet.conv4(h))
    h = onet.prelu5(onet.dense5(h.permute(0, 3, 2, 1).contiguous().view(1, -1)))
    return h[0].numpy()


def within_group_z(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    out = values.astype(float).copy()
    for group in set(groups.tolist()):
        mask = groups == group
        out[mask] = (out[mask] - out[mask].mean()) / (out[mask].std() or 1.0)
    return out


def ridge_correlations(
    x: np.ndarray, y: np.ndarray, train: np.ndarray, lambdas: Iterable[float] = LAMBDAS
) -> dict[str, float]:
    """Test-set Pearson r of a ridge fit on ``train`` rows, per regularisation strength."""
    mean, std = x[train].mean(0), x[train].std(0) + 1e-6
    xn = (x - mean) / std
    a, test = xn[train], ~train
    results = {}
    for lam in lambdas:
        w = np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ y[train])
        results[f"{lam:g}"] = float(np.corrcoef(xn[test] @ w, y[test])[0, 1])
    return results


def probe(dataset_dir: Path, test_people: Iterable[str]) -> dict[str, Any]:
    """Features for every photo, ridge per lambda, Pearson r on the held-out people."""
    ratings = read_mean_ratings(dataset_dir / "ratings.csv")
    info = read_faces_info(dataset_dir / "faces_info.csv")
    held_out = {p.lstrip("X") for p in test_people}
    detector = FaceDetector()
    rows = []
    for path in sorted((dataset_dir / "images").glob("*.jpg")):
        person = path.stem.split("_")[0]
        if f"X{person}" not in ratings:
            continue
        features = onet_features(detector, Image.open(path).convert("RGB"))
        if features is not None:
            rows.append((features, ratings[f"X{person}"], info[f"X{person}"]["face_sex"], person))
    x = np.stack([r[0] for r in rows])
    y = within_group_z(np.array([r[1] for r in rows]), np.array([r[2] for r in rows]))
    train = np.array([r[3] not in held_out for r in rows])
    return {
        "feature": "MTCNN ONet 256-d (pretrained, in the facenet-pytorch wheel)",
        "target": "mean rating, z-scored within sex",
        "train_photos": int(train.sum()),
        "test_photos": int((~train).sum()),
        "pearson_r_by_ridge_lambda": ridge_correlations(x, y, train),
    }
