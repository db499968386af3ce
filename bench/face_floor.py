"""``python -m bench.face_floor``: the smallest face the region detector still reads.

Sets the evidence for the gateway's ``min_face_px`` (eye-to-chin distance, see
:attr:`core.schemas.Face.eye_to_chin`). Every London photo is shrunk so that its face measures a
target eye-to-chin distance, then sent through the gateway's served path in process: upload
validation (:func:`gateway.imaging.clean_image`), face check on the detection copy
(:func:`gateway.analyses.geometry.detection_jpeg`), the upright crop of the largest face
(upscaled to the crop's size), JPEG, face regions. Both TorchServe handlers are driven through
``handler.handle`` as TorchServe would, one request at a time, with their yaml model configs.

A photo counts as "all 3 parts found" only when a face was found *and* the outcome is not
``regions_incomplete``. The region detector also "finds" all three parts on a blank image, so
found-rates alone say little: each shrunken answer's part boxes are also compared, in the
photo's full-size pixels, with the answer for the unshrunk photo (the smallest of the three
parts' IoU, "box IoU"), and the same IoU is given for a blank grey crop, as a floor.

People the region detector did not train on (the checkpoint's ``meta["split"]["test"]``) are
reported separately. Raw results go to ``var/bench/face_floor.json``, a plot to
``var/bench/face_floor.png``. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image
from tqdm import tqdm

from core.crop import Crop, upright_crop
from core.dataset import default_dataset_dir
from core.parameters import CROP
from core.schemas import Box, FaceCheckAnswer, Region
from gateway.analyses.geometry import regions_in_photo
from gateway.config import Settings
from gateway.faces import detection_jpeg, scale_faces
from gateway.imaging import clean_image, encode_jpeg
from model_server.paths import REPO_ROOT, VAR_DIR, WEIGHTS_DIR
from model_server.runtime.checkpoint import load_checkpoint
from model_server.runtime.handlers.base import ImageHandler
from model_server.runtime.handlers.face_check import FaceCheckHandler
from model_server.runtime.handlers.face_regions import FaceRegionsHandler
from model_server.runtime.parts import iou
from model_server.tools.worker_context import local_context
from model_server.training.london import person_of

CHECKPOINT = WEIGHTS_DIR / "face_regions.pt"
OUT_DIR = VAR_DIR / "bench"
SIZES = (8, 10, 12, 14, 16, 20, 24, 28, 32, 36, 40, 48, 56, 64, 80)
TARGET_RATE = 97.0  # % of held-out photos with all three parts found


# ----------------------------------------------------------------------------- handlers
def load_handlers(checkpoint: Path) -> tuple[FaceCheckHandler, FaceRegionsHandler]:
    """Both handlers, initialised as TorchServe would (this pins torch to their num_threads)."""
    face_check = FaceCheckHandler()
    face_check.initialize(local_context("face_check", REPO_ROOT, batch_size=1))
    face_regions = FaceRegionsHandler()
    face_regions.initialize(
        local_context("face_regions", checkpoint.parent, None, checkpoint.name, batch_size=1)
    )
    return face_check, face_regions


def ask(handler: ImageHandler, body: bytes) -> dict[str, Any]:
    """One request through ``handler.handle``, as TorchServe hands it over."""
    [answer] = handler.handle([{"body": body}], handler.context)
    return answer


# ----------------------------------------------------------------------------- served path
def face_check_answer(face_check: FaceCheckHandler, image: Image.Image) -> FaceCheckAnswer | str:
    """The gateway's face check: faces (largest first) in original pixels, or the error code."""
    small, scale = detection_jpeg(image)
    answer = ask(face_check, small)
    if "error" in answer:
        return str(answer["error"])
    return scale_faces(FaceCheckAnswer.model_validate(answer), scale)


def shrink(image: Image.Image, factor: float) -> Image.Image:
    """The whole photo scaled by ``factor`` (LANCZOS)."""
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.LANCZOS)


def bounds(points: Sequence[Sequence[float]]) -> Box:
    """The axis-aligned box around a polygon."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys))


def agreement(boxes: dict[str, Box], reference: dict[str, Box]) -> float | None:
    """The smallest per-part IoU between two answers (None when a part is missing)."""
    if not reference or set(boxes) != set(reference):
        return None
    return round(min(iou(boxes[part], reference[part]) for part in reference), 4)


def photo_boxes(regions: dict[str, Any], crop: Crop, scale: float = 1.0) -> dict[str, Box]:
    """Found parts' boxes in photo pixels (times ``scale``), as the gateway draws them."""
    typed = {part: Region.model_validate(region) for part, region in regions.items()}
    return {
        part: tuple(v * scale for v in bounds(region.polygon))  # type: ignore[misc]
        for part, region in regions_in_photo(typed, crop).items()
        if region.found and region.polygon
    }


def serve(
    handlers: tuple[FaceCheckHandler, FaceRegionsHandler], upload: bytes, settings: Settings
) -> tuple[dict[str, Any], Crop | None]:
    """One upload through validation, face check, crop and regions; what each step found.

    Part boxes are given in the uploaded photo's pixels (``boxes``) and the crop's (``crop_boxes``).
    """
    face_check, face_regions = handlers
    image = clean_image(upload).image
    detection = face_check_answer(face_check, image)
    faces = [] if isinstance(detection, str) else detection.faces
    record: dict[str, Any] = {"width": image.width, "height": image.height, "faces": len(faces)}
    if isinstance(detection, str):
        record["error"] = detection
    if not faces:
        return {**record, "face_found": False, "all_parts": False}, None
    face = faces[0]
    crop = upright_crop(
        image,
        face.box,
        face.landmarks.left_eye,
        face.landmarks.right_eye,
    )
    regions = ask(face_regions, encode_jpeg(crop.image))
    parts = regions.get("regions", {})
    record |= {
        "face_found": True,
        "eye_to_chin": round(face.eye_to_chin, 2),
        "confidence": round(face.confidence, 4),
        "outcome": "complete" if regions.get("complete") else regions.get("error", "incomplete"),
        "parts_found": {part: region["found"] for part, region in parts.items()},
        "all_parts": bool(regions.get("complete")),
        "boxes": photo_boxes(parts, crop),
        "crop_boxes": {part: r["box"] for part, r in parts.items() if r["found"]},
    }
    return record, crop


def probe_photo(
    handlers: tuple[FaceCheckHandler, FaceRegionsHandler],
    path: Path,
    sizes: Sequence[int],
    settings: Settings,
    blank: dict[str, Box],
    progress: tqdm,
) -> list[dict[str, Any]]:
    """The photo at every target eye-to-chin size (no rows when no face is found at full size).

    ``blank`` is the answer for a blank crop, in crop pixels: its agreement with this photo's
    full-size answer is what a detector that ignores the image would score.
    """
    photo = Image.open(path).convert("RGB")
    full, _ = serve(handlers, encode_jpeg(photo, quality=90), settings)
    if not full["face_found"]:
        progress.update(len(sizes))
        return []
    reference = full["boxes"]
    base = {"photo": path.name, "person": person_of(path.name)}
    rows = [
        {**base, "target": "full", **full, "blank_agreement": agreement(blank, full["crop_boxes"])}
    ]
    for size in sizes:
        upload = encode_jpeg(shrink(photo, size / full["eye_to_chin"]), quality=90)
        result, crop = serve(handlers, upload, settings)
        if crop is not None:  # back to full-size pixels, to compare with the unshrunk answer
            result["boxes"] = {
                k: [v * photo.width / result["width"] for v in box]
                for k, box in result["boxes"].items()
            }
        result["agreement"] = agreement(result.get("boxes", {}), reference)
        rows.append({**base, "target": size, **result})
        progress.update()
    return rows


def blank_boxes(face_regions: FaceRegionsHandler, size: int) -> dict[str, Box]:
    """The region detector's answer for a plain grey crop, in crop pixels."""
    grey = Image.new("RGB", (size, size), (128, 128, 128))
    regions = ask(face_regions, encode_jpeg(grey))["regions"]
    return {part: region["box"] for part, region in regions.items() if region["found"]}


# ----------------------------------------------------------------------------- summary
def percent(rows: Sequence[dict[str, Any]], key: str) -> float | None:
    return 100 * sum(bool(r[key]) for r in rows) / len(rows) if rows else None


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (nearest rank below), None for no values."""
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))] if ordered else None


def summarise(
    records: Sequence[dict[str, Any]], sizes: Sequence[int], held_out: set[str]
) -> list[dict[str, Any]]:
    """Per target size: counts, found rates (all photos, held-out people), box IoU."""
    summary = []
    for size in sizes:
        rows = [r for r in records if r["target"] == size]
        unseen = [r for r in rows if r["person"] in held_out]
        measured = [r["eye_to_chin"] for r in rows if r["face_found"]]
        ious = [r["agreement"] for r in rows if r.get("agreement") is not None]
        summary.append(
            {
                "target": size,
                "n": len(rows),
                "n_held_out": len(unseen),
                "face_found": percent(rows, "face_found"),
                "all_parts_held_out": percent(unseen, "all_parts"),
                "all_parts": percent(rows, "all_parts"),
                "measured_median": quantile(measured, 0.5),
                "iou_median": quantile(ious, 0.5),
                "iou_p10": quantile(ious, 0.1),
            }
        )
    return summary


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(summary: Sequence[dict[str, Any]]) -> str:
    n_held = summary[0]["n_held_out"] if summary else 0
    lines = [
        "| target eye-to-chin px | n | face found % | all 3 parts found % "
        f"(held-out, n={n_held}) | all 3 parts found % (all) | measured eye-to-chin px "
        "(median) | box IoU vs full size (median / p10) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in summary:
        lines.append(
            f"| {row['target']} | {row['n']} | {fmt(row['face_found'])} | "
            f"{fmt(row['all_parts_held_out'])} | {fmt(row['all_parts'])} | "
            f"{fmt(row['measured_median'])} | "
            f"{fmt(row['iou_median'], 2)} / {fmt(row['iou_p10'], 2)} |"
        )
    return "\n".join(lines)


def floor(summary: Sequence[dict[str, Any]], key: str, rate: float) -> int | None:
    """The smallest target from which every larger target also reaches ``rate``."""
    smallest = None
    for row in sorted(summary, key=lambda r: r["target"], reverse=True):
        if row[key] is None or row[key] < rate:
            break
        smallest = row["target"]
    return smallest


def plot(summary: Sequence[dict[str, Any]], blank_iou: float | None, path: Path) -> None:
    """Found rates and box IoU against the target eye-to-chin size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["target"] for r in summary]
    fig, (rates, ious) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (
        ("face_found", "face found (all)"),
        ("all_parts", "all 3 parts (all)"),
        ("all_parts_held_out", "all 3 parts (held-out)"),
    ):
        rates.plot(sizes, [r[key] for r in summary], marker="o", label=label)
    rates.axhline(TARGET_RATE, color="grey", linestyle=":", label=f"{TARGET_RATE:g} %")
    rates.set(xlabel="eye-to-chin (px)", ylabel="photos (%)", ylim=(0, 102))
    for key, label in (("iou_median", "median"), ("iou_p10", "10th percentile")):
        ious.plot(sizes, [r[key] for r in summary], marker="o", label=label)
    if blank_iou is not None:
        ious.axhline(blank_iou, color="grey", linestyle=":", label="blank crop (median)")
    ious.set(xlabel="eye-to-chin (px)", ylabel="smallest part IoU vs full size", ylim=(0, 1))
    for ax in (rates, ious):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ----------------------------------------------------------------------------- main
def get_args_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset-dir", type=Path, default=default_dataset_dir())
    p.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="eye-to-chin px")
    p.add_argument("--limit", type=int, default=0, help="first N photos only (smoke runs)")
    p.add_argument("--out", type=Path, default=OUT_DIR / "face_floor.json")
    p.add_argument("--plot", type=Path, default=OUT_DIR / "face_floor.png")
    return p


def main(args: argparse.Namespace) -> int:
    photos = sorted((args.dataset_dir / "images").glob("*.jpg"))[: args.limit or None]
    if not photos:
        raise SystemExit(f"no photos under {args.dataset_dir / 'images'}")
    held_out = set(load_checkpoint(args.checkpoint).meta["split"]["test"])
    settings = Settings()
    handlers = load_handlers(args.checkpoint)
    blank = blank_boxes(handlers[1], CROP.size)
    started = time.perf_counter()
    records: list[dict[str, Any]] = []
    with tqdm(total=len(photos) * len(args.sizes), unit="size") as progress:
        for path in photos:
            records += probe_photo(handlers, path, args.sizes, settings, blank, progress)
    elapsed = time.perf_counter() - started
    summary = summarise(records, args.sizes, held_out)
    blank_iou = quantile(
        [r["blank_agreement"] or 0.0 for r in records if r["target"] == "full"], 0.5
    )
    threshold = floor(summary, "all_parts_held_out", TARGET_RATE)
    print(markdown(summary))
    print(f"\nblank grey crop, box IoU vs full size (median): {fmt(blank_iou, 2)}")
    print(f"smallest size, all 3 parts on >= {TARGET_RATE:g} % of held-out photos: {threshold}")
    print(f"photos: {len(photos)}, held-out people: {len(held_out)}, run: {elapsed:.0f} s")
    meta = {
        "photos": len(photos),
        "held_out_people": sorted(held_out),
        "checkpoint": str(args.checkpoint),
        "crop_margin": CROP.margin,
        "crop_size": CROP.size,
        "blank_boxes": blank,
        "blank_iou_median": blank_iou,
        "seconds": round(elapsed, 1),
        "floor_held_out": threshold,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "summary": summary, "records": records}))
    if args.plot:
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        plot(summary, blank_iou, args.plot)
    print(f"raw results -> {args.out}" + (f", plot -> {args.plot}" if args.plot else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(get_args_parser().parse_args()))
