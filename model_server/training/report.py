"""Evaluation outputs (prediction overlay PNG, metrics JSON) and the model cards' text."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import patches
from PIL import Image

PART_COLOURS = {"face": "#1f77b4", "t_zone": "#2ca02c", "jaw": "#d62728"}


def save_metrics(metrics: Mapping[str, Any], path: Path) -> None:
    """Metrics JSON without the per-image predictions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {k: v for k, v in metrics.items() if k != "predictions"}
    path.write_text(json.dumps(body, indent=1))


def save_overlay(
    crops: Sequence[Image.Image],
    predictions: Sequence[Mapping[str, Any]],
    path: Path,
    *,
    columns: int = 4,
) -> None:
    """Crops with ground truth (dashed) and found parts (solid, with their box score)."""
    rows = (len(crops) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.4 * rows), dpi=72)
    for ax in list(getattr(axes, "flat", [axes])):
        ax.axis("off")
    for ax, crop, pred in zip(getattr(axes, "flat", [axes]), crops, predictions, strict=False):
        ax.imshow(crop)
        for (part, colour), gt in zip(PART_COLOURS.items(), pred["gt_boxes"], strict=True):
            x1, y1, x2, y2 = gt
            ax.add_patch(
                patches.Rectangle(
                    (x1, y1), x2 - x1, y2 - y1, fill=False, ls="--", lw=0.8, ec=colour
                )
            )
            d = pred["parts"][part]
            if d["found"]:
                x1, y1, x2, y2 = d["box"]
                ax.add_patch(
                    patches.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, lw=1.4, ec=colour)
                )
                ax.text(
                    x1 + 2,
                    y1 + 10,
                    f"{d['presence']:.2f}",
                    color=colour,
                    fontsize=6,
                )
        ax.set_title("all parts found" if pred["complete"] else "incomplete", fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    # Palette PNG keeps the overlay small.
    with Image.open(path) as img:
        img.convert("RGB").quantize(64).save(path, optimize=True)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f} %"


def model_card(meta: Mapping[str, Any], weights: Path | None = None) -> str:
    """The region detector's section of MODEL_CARD.md, from a serving checkpoint's ``meta``."""
    tr, split, metrics = meta["training"], meta["split"], meta.get("metrics", {})
    check = meta.get("autolabel_check") or {}
    size = f"{weights.stat().st_size / 1e6:.1f} MB" if weights and weights.exists() else "n/a"
    rows = [
        f"| {name} | {m['ap50']['face']:.3f} | {m['ap50']['t_zone']:.3f} | {m['ap50']['jaw']:.3f} "
        f"| {m['map50']:.3f} | {_pct(m['all_parts_found'])} |"
        for name, m in metrics.items()
    ]
    clean = metrics.get("clean")
    worst_found = min((m["all_parts_found"] for m in metrics.values()), default=None)
    worst_map = min((m["map50"] for m in metrics.values()), default=None)
    eval_dir = meta.get("eval_dir", "model_server/weights/eval")
    targets = ""
    if worst_found is not None and worst_map is not None:
        targets = (
            "- all three parts found >= 90 % on every condition: "
            f"**{'met' if worst_found >= 0.9 else 'NOT met'}** (worst {_pct(worst_found)})\n"
            "- part mAP@0.5 >= 0.8 on every condition: "
            f"**{'met' if worst_map >= 0.8 else 'NOT met'}** (worst {worst_map:.3f})\n"
            f"- training: {tr['minutes']} min on {tr['device']} with {tr['threads']} threads"
            + (
                f" ({meta['wall_minutes']} min wall including labelling and evaluation)\n"
                if meta.get("wall_minutes")
                else f" ({tr.get('note', 'wall time not recorded')})\n"
            )
        )
    iou = check.get("mean_iou", {})
    n_test = clean["images"] if clean else "n/a"
    return f"""## face_regions: where the face parts are

Faster R-CNN with FPN (torchvision, `{meta.get("backbone", "mobilenet_v3_large_320_fpn")}`,
trained from scratch, no downloaded weights) that finds the three face parts (whole face,
T-zone, jaw) on the gateway's upright {meta["crop"]["size"]} px face crop: 4 classes
(background + 3 parts). It says nothing about types. fp16 checkpoint, {size}; box head
{meta["detector"]["box_head_width"]} wide, {meta["detector"]["rpn_proposals"]} RPN proposals,
{meta["detector"]["rois_per_image"]} RoIs per image. A part is found when its best box scores
{clean["threshold"] if clean else 0.75} or more (the seed's threshold).

- **Boxes**: auto-labelled from MTCNN's box and 5 landmarks (face = MTCNN box; T-zone = brows to
  nose base, outer eye corner to outer eye corner; jaw = nose base to chin, jaw line to jaw line),
  in the coordinates of the upright crop (`core.crop.upright_crop`, margin
  {meta["crop"]["margin"]}). Against boxes from the hand-placed 189-point landmarks of the
  {check.get("images", "n/a")} neutral photos, mean IoU: face {iou.get("face", "n/a")}, T-zone
  {iou.get("t_zone", "n/a")}, jaw {iou.get("jaw", "n/a")} (in-sample: the geometry constants are
  medians over the same landmarks). AP therefore measures agreement with the auto-labeller.
- **Split by person** (seed {split["seed"]}, balanced by sex): {len(split["train"])} people
  train, {len(split["test"])} people test ({", ".join(split["test"])}).
- **Training**: {tr["epochs"]} epochs, {tr["iterations"]} iterations, batch {tr["batch_size"]},
  AdamW lr {tr["lr"]}, warm-up and cosine decay, augmentation preset `{tr["aug"]}` (flip, small
  rotation/scale/translation, colour jitter, low light, grayscale, blur, JPEG, noise, partial
  occlusion); final loss {tr["final_loss"]}.

### Evaluation on the {len(split["test"])} unseen people ({n_test} photos)

AP@0.5 per part and "all three parts found" under the served rule. Perturbations are fixed and
seeded: blur (Gaussian sigma 3), low_light (gain 0.3, gamma 1.5, noise), jpeg (quality 12),
rotation (+-12 degrees), occlusion (a 12 % patch), wild (blur + JPEG 25 + 8 degrees + dim + 6 %
patch).

| condition | AP50 face | AP50 T-zone | AP50 jaw | mAP50 | all parts found |
|---|---|---|---|---|---|
{chr(10).join(rows)}

{targets}- face-free crops (64 generated: flat colour, gradient, noise, blocks) with any part found:
  {_pct(clean.get("false_parts_on_blank")) if clean else "n/a"} (the detector is trained with
  such crops as negatives; the gateway only sends crops of faces that `face_check` found)

Predictions drawn over unseen crops: `overlays/overlay.png` and `overlay_wild.png` in the run's
output directory (not committed: they show the dataset's faces); all figures:
`{eval_dir}/metrics.json`. Reproduce: `{meta["command"]}`. Studio photos only: the
perturbations approximate, but do not measure, selfies in the wild.
"""


UNTRAINED = "UNTRAINED: outputs are meaningless"


def checkpoint_card(version: str, meta: Mapping[str, Any]) -> str:
    """The short card of a checkpoint that has no written card (plumbing or ad-hoc versions)."""
    lines = [f"# face_regions {version}", ""]
    if not meta.get("trained", True):
        lines += [f"**{UNTRAINED}.** A randomly initialised detector, for plumbing only.", ""]
    lines += ["Faster R-CNN (FPN) face-part detector, 4 classes (spec 2.4).", "", "## meta", ""]
    lines += ["```json", json.dumps(meta, indent=2, sort_keys=True, default=str), "```", ""]
    return "\n".join(lines)


def write_detector_card(path: Path, meta: Mapping[str, Any], weights: Path | None = None) -> None:
    """The detector's section alone (a training run's own card)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(model_card(meta, weights))


def write_model_card(path: Path, weights: Path, type_metrics: Path) -> None:
    """MODEL_CARD.md: the type model (its metrics JSON, and beside it the face network's parity
    and the views' choice when present), then the region detector (its checkpoint's run)."""
    from model_server.runtime.checkpoint import load_checkpoint

    checkpoint = load_checkpoint(weights)
    metrics = json.loads(type_metrics.read_text())
    beside = {
        name: json.loads(p.read_text())
        for name in ("face_net_parity", "type_views")
        if (p := type_metrics.with_name(f"{name}.json")).is_file()
    }
    path.write_text(
        "# AlphaMale's models\n\n"
        "Two models answer a photo after `face_check` (MTCNN, pretrained, from the facenet-pytorch "
        "wheel) has found the face: `face_type` says which type each face region shows, "
        "`face_regions` where the regions are. Both run on the gateway's upright 320 px crop of "
        "the largest face, in TorchServe, concurrently.\n\n"
        + type_model_card(metrics["figures"], metrics["meta"], **beside)
        + "\n"
        + model_card({**checkpoint.meta, "backbone": checkpoint.backbone}, weights)
    )


def _views_text(features: Mapping[str, Any]) -> str:
    views = features.get("views", [[0.0, 0.0, 1.0]])
    moved = [v for v in views if list(v) != [0.0, 0.0, 1.0]]
    text = "the chip as aligned" + (
        f" and {len(moved)} moved or scaled views of it ({moved})" if moved else ""
    )
    text += ", of the crop and of its mirror image" if features.get("mirror", True) else ""
    if features.get("gain"):
        text += ", each chip's brightness first scaled to one mean (a darker or brighter photo "
        "embeds alike)"
    return text


def _stability_section(reencoding: Mapping[str, Any], variants: list[str]) -> list[str]:
    return [
        "### Stability: one photo under hard variants",
        "",
        f"{reencoding['photos']} London photos through the serving path (MTCNN, the gateway's "
        "crop, the served features and model), each photo changed as below: the share of photos "
        "whose served type does not change (`shift_5`: the face box moved right and down by 5 % "
        "of its width before the crop; `all_variants`: unchanged under every one at once). "
        "These photos trained the served model, so see the views' table for out-of-fold figures.",
        "",
        "| variant | same type |",
        "|---|---|",
        *(f"| {k} | {_pct(reencoding[k])} |" for k in variants),
    ]


def _views_section(views: Mapping[str, Any]) -> list[str]:
    def cell(half: Mapping[str, float]) -> str:
        worst = min(v for k, v in half.items() if k not in ("all_variants", "exact"))
        return f"{_pct(half['all_variants'])} / {_pct(worst)} | {_pct(half['exact'])}"

    return [
        "### Views (test-time augmentation), chosen out of fold",
        "",
        f"`python -m model_server.training type-views`: {views['photos']} photos and their "
        "variants; each view set's ridges fitted by person-grouped 10-fold CV on original photos "
        "(served combination, out-of-fold cut points), every held-out photo and its variants "
        "typed by models that never saw the person. The set is chosen on people with even "
        "numbers and reported on the odd ones. Chips: face-network passes per analysis.",
        "",
        "| views | chips | choosing half: all variants / worst | exact | reporting half: all "
        "variants / worst | exact |",
        "|---|---|---|---|---|---|",
        *(
            f"| {name} | {f['chips']} | {cell(f['choose'])} | {cell(f['report'])} |"
            for name, f in views["sets"].items()
        ),
    ]


def _parity_section(parity: Mapping[str, Any]) -> list[str]:
    ms = parity["ms_per_photo"]
    return [
        "### The face network in torch, against dlib",
        "",
        f"`python -m model_server.training face-net-parity`: {parity['chips']} chips of "
        f"{parity['photos']} London photos (face, T-zone and jaw chips of each crop and its "
        "mirror), embedded by dlib-bin and by the torch port: largest absolute difference "
        f"{parity['max_abs_difference']:.2g}, smallest cosine {parity['min_cosine']:.9f} "
        f"(target >= 0.9999); the committed type model serves the same type from either on "
        f"{_pct(parity['same_served_type'])} of photos (target >= 99 %). One photo's six chips: "
        f"dlib {ms['dlib']:.0f} ms, torch {ms['torch']:.0f} ms (one batch, one thread).",
    ]


def _interval(r: float, n: int) -> str:
    """Pearson r's 95 % interval (Fisher z)."""
    z, half = math.atanh(r), 1.96 / math.sqrt(max(1, n - 3))
    return f"{math.tanh(z - half):.2f} to {math.tanh(z + half):.2f}"


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


PREDICTOR_NAMES = {
    "face": "face (whole chip)",
    "t_zone": "T-zone only",
    "jaw": "jaw only",
    "average": "average of the three",
    "seed_vote": "seed's weighted vote",
}


def type_model_card(
    figures: Mapping[str, Mapping[str, Any]],
    meta: Mapping[str, Any],
    face_net_parity: Mapping[str, Any] | None = None,
    type_views: Mapping[str, Any] | None = None,
) -> str:
    """The type model's section: what it measures, by person-grouped CV with its null; the
    face network's parity with dlib and the views' choice when given."""
    stability = meta.get("stability", {})
    reencoding = stability.get("reencoding", {})
    variants = [k for k in reencoding if k != "photos"]
    lines = [
        *_type_intro(meta),
        "",
        *_protocol_section(figures, meta),
        "",
        *_targets_section(figures, meta),
    ]
    if stability.get("photos"):
        lines += ["", *_photos_section(stability["photos"])]
    if reencoding:
        lines += ["", *_stability_section(reencoding, variants)]
    if type_views:
        lines += ["", *_views_section(type_views)]
    if face_net_parity:
        lines += ["", *_parity_section(face_net_parity)]
    served = figures[meta["served"]]
    lines += [
        "",
        "### What it does not mean",
        "",
        f"- {_pct(served['exact'])} of people get exactly their raters' tier and "
        f"{_pct(served['within_one'])} within one tier. The type is entertainment, not a "
        "measurement of worth.",
        "- 102 young adults photographed in one studio, rated by strangers: narrow, and biased "
        "towards what those raters liked (younger faces rate higher). The London set is mostly "
        "white; nothing here is measured on other groups or on selfies in the wild.",
        "",
        f"Reproduce: `python -m model_server.training type-model` ({meta['minutes']} min here).",
        "",
    ]
    return "\n".join(lines)


def _type_intro(meta: Mapping[str, Any]) -> list[str]:
    return [
        "## face_type: the type, from dlib face embeddings",
        "",
        "The type is the raters' overall rating of a face, guessed by ridge regression from the "
        "128-d embedding of dlib's ResNet (face_recognition_models 0.3.0: dlib's models, public "
        "domain / CC0; dlib-bin: Boost licence; its 68-point model is never used), run by our "
        "torch port of the network (weights converted from the `.dat` when the archive is "
        "built), of the aligned face chip, and of that chip with all but the T-zone or the jaw "
        "filled with its mean colour. No data rates a jaw alone: a region's type means *overall "
        "rating guessed from that region's pixels*. Features are computed exactly as served: "
        "MTCNN's largest face, the gateway's upright crop, dlib's 5-point alignment inside the "
        "crop's face square; each embedding is the mean over "
        + _views_text(meta.get("features", {}))
        + " (a mirrored selfie should not change the type).",
    ]


def _figures_table(figures: Mapping[str, Mapping[str, Any]], suffix: str, people: int) -> list[str]:
    def row(key: str, label: str) -> str:
        f = figures[key]
        r = "-" if f["r"] is None else f"{f['r']:.2f} ({_interval(f['r'], people)})"
        p_r = "-" if f.get("p_r") is None else f"{f['p_r']:.3f}"
        return (
            f"| {label} | {r} | {p_r} | {_pct(f['exact'])} | {_pct(f['within_one'])} | "
            f"{_pct(f['null_exact_mean'])} / {_pct(f['null_exact_p95'])} | {f['p_exact']:.3f} |"
        )

    return [
        "| predictor | r (95 % interval) | p (r) | exact type | within one "
        "| null exact mean / 95th | p (exact) |",
        "|---|---|---|---|---|---|---|",
        *(row(f"{key}{suffix}", label) for key, label in PREDICTOR_NAMES.items()),
    ]


def _protocol_section(
    figures: Mapping[str, Mapping[str, Any]], meta: Mapping[str, Any]
) -> list[str]:
    protocol, served = meta["protocol"], meta["served"]
    return [
        "### Protocol",
        "",
        f"Face Research Lab London Set ({meta['people']} people, {meta['photos']} photos, "
        "neutral and smiling; DeBruine & Jones 2017, doi:10.6084/m9.figshare.5047666.v5, "
        "CC BY 4.0). Target: a person's mean rating (2,513 raters, 1-7) z-scored within sex. "
        f"Outer {protocol['folds']}-fold CV split by person (both photos in one fold), repeated "
        f"{protocol['repeats']} times; the ridge strength is picked by an inner person-grouped "
        "5-fold CV on the outer training set only, so no figure below was tuned on the people "
        "it reports. A person's score is the mean over their photos and repeats. Types: "
        "out-of-fold scores cut by the seed's quota shares (21.8/21.4/22.5/19.2/15.2 %) within "
        f"sex. Null: the whole protocol on {protocol['shuffles']} shuffles of the targets between "
        "people of the same sex; p = (1 + shuffles at least as good) / (1 + shuffles). Majority "
        f"baseline: {_pct(meta['majority_baseline'])}.",
        "",
        "All people:",
        "",
        *_figures_table(figures, "", meta["people"]),
        "",
        "Men only (the app's users):",
        "",
        *_figures_table(figures, ":men", meta.get("men", 53)),
        "",
        f"**Served: {served}**, the best exact type on all people in this CV; on a tie the "
        "seed's vote (it keeps each region's meaning), then the average, then the face alone. "
        "`handler.combination` in the archive's model-config switches it. Plots: "
        "`eval/type_model.scatter.png` (predicted vs rated, out of fold), "
        "`eval/type_model.null.png` (the null).",
    ]


def _targets_section(
    figures: Mapping[str, Mapping[str, Any]], meta: Mapping[str, Any]
) -> list[str]:
    served, stability = meta["served"], meta.get("stability", {})
    men = figures[f"{served}:men"]
    men_r = figures["face:men"]["r"] if men["r"] is None else men["r"]
    lines = [
        "### Targets",
        "",
        f"- men: r >= 0.45: {_verdict(men_r >= 0.45)} ({men_r:.2f}, "
        f"{'face' if men['r'] is None else served}); exact type >= 30 %: "
        f"{_verdict(men['exact'] >= 0.30)} ({_pct(men['exact'])}); permutation p <= 0.01: "
        f"{_verdict(men['p_exact'] <= 0.01)} (p {men['p_exact']:.3f})",
    ]
    if reencoding := stability.get("reencoding", {}):
        worst = min(v for k, v in reencoding.items() if k not in ("photos", "all_variants"))
        lines.append(
            f"- the same type under every hard variant >= 97 % of photos: "
            f"{_verdict(worst >= 0.97)} (worst variant {_pct(worst)}; all variants at once "
            f"{_pct(reencoding.get('all_variants'))}; table below)"
        )
    if expression := stability.get("expression", {}):
        lines.append(
            f"- neutral vs smiling photo, out of fold, same or adjacent type >= 85 %: "
            f"{_verdict(expression['same_or_adjacent'] >= 0.85)} "
            f"({_pct(expression['same_or_adjacent'])}; exactly the same "
            f"{_pct(expression['same'])}; {expression['people']} people)"
        )
    return lines


def _photos_section(photos: Mapping[str, Any]) -> list[str]:
    return [
        "### One photo at a time (as served), out of fold",
        "",
        f"The served type matches the person's type on {_pct(photos['served']['exact'])} "
        f"of single photos (within one type {_pct(photos['served']['within_one'])}); the "
        "figures above average a person's two photos. Each region's answer carries a "
        "calibrated probability (true rating | predicted ~ normal, fitted on these "
        "out-of-fold predictions: in-sample for its 3 parameters). Mean stated probability "
        "of a region's type vs how often it is the person's type: "
        + "; ".join(
            f"{part} {_pct(photos[part]['stated'])} vs {_pct(photos[part]['observed'])}"
            for part in ("face", "t_zone", "jaw")
        )
        + ". Strength words: clear (probability >= 50 %), likely (>= 35 %), borderline.",
    ]
