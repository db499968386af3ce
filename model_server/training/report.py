"""Evaluation outputs: confusion-matrix PNG, prediction overlay PNG, metrics JSON."""

from __future__ import annotations

import json
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


def save_confusion(confusion: Mapping[str, Any], path: Path, title: str = "") -> None:
    """True type (rows) x outcome under the served rule (columns)."""
    counts = confusion["counts"]
    fig, ax = plt.subplots(figsize=(5.2, 3.8), dpi=80)
    ax.imshow(counts, cmap="Blues")
    cols = [c.replace("regions_incomplete", "incompl.") for c in confusion["columns"]]
    ax.set_xticks(range(len(cols)), cols, rotation=30)
    ax.set_yticks(range(len(confusion["rows"])), confusion["rows"])
    ax.set_xlabel("predicted (served rule)")
    ax.set_ylabel("true type")
    peak = max(max(r) for r in counts) or 1
    for i, row in enumerate(counts):
        for j, v in enumerate(row):
            ax.text(
                j, i, str(v), ha="center", va="center", color="white" if v > peak / 2 else "black"
            )
    ax.set_title(title or "type confusion, unseen people", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def save_overlay(
    crops: Sequence[Image.Image],
    predictions: Sequence[Mapping[str, Any]],
    path: Path,
    *,
    columns: int = 4,
) -> None:
    """Crops with ground truth (dashed) and found parts (solid, with type and confidence)."""
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
                    f"{d['type'][:2]} {d['confidence']:.2f}",
                    color=colour,
                    fontsize=6,
                )
        ax.set_title(f"true {pred['true_type']} / {pred['outcome'][:10]}", fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    # Palette PNG keeps the overlay small enough to commit.
    with Image.open(path) as img:
        img.convert("RGB").quantize(64).save(path, optimize=True)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f} %"


def model_card(meta: Mapping[str, Any], weights: Path | None = None) -> str:
    """MODEL_CARD.md text from a serving checkpoint's ``meta`` (written by ``train``)."""
    tr, split, metrics = meta["training"], meta["split"], meta.get("metrics", {})
    check = meta.get("autolabel_check") or {}
    size = f"{weights.stat().st_size / 1e6:.1f} MB" if weights and weights.exists() else "n/a"
    rows = []
    for name, m in metrics.items():
        ap = m["ap50"]
        rows.append(
            f"| {name} | {ap['face']:.3f} | {ap['t_zone']:.3f} | {ap['jaw']:.3f} "
            f"| {m['map50']:.3f} "
            f"| {_pct(m['all_parts_found']['summed'])} | {_pct(m['all_parts_found']['single'])} "
            f"| {_pct(m['type_accuracy'])} | {_pct(m['majority_baseline']['accuracy'])} |"
        )
    clean = metrics.get("clean")
    worst_found = min((m["all_parts_found"]["summed"] for m in metrics.values()), default=None)
    worst_map = min((m["map50"] for m in metrics.values()), default=None)
    eval_dir = meta.get("eval_dir", "model_server/weights/eval")
    type_line = "n/a"
    if clean:
        type_line = (
            f"{_pct(clean['type_accuracy'])} of unseen photos get their person's type under the "
            f"served rule, against {_pct(clean['majority_baseline']['accuracy'])} for always "
            "answering the training set's most common type "
            f"({clean['majority_baseline']['type']}); "
            f"per found part {_pct(clean['part_type_accuracy'])}"
        )
    beats = bool(clean) and clean["type_accuracy"] > clean["majority_baseline"]["accuracy"]
    type_verdict = (
        "**The type is only marginally above the majority baseline on few test photos.**"
        if beats
        else "**The type is not predicted better than chance.**"
    )
    probe = meta.get("type_probe")
    probe_line = (
        "A cheap attempt to find the signal elsewhere failed too: ridge regressions on "
        f"{probe['feature']} features predicting the {probe['target']} reach a Pearson r of "
        + ", ".join(f"{r:.2f}" for r in probe["pearson_r_by_ridge_lambda"].values())
        + f" (by ridge strength) on the {probe['test_photos']} held-out photos, i.e. none "
        "(`python -m model_server.training probe-types`); so no type head was added."
        if probe
        else "No auxiliary type head or ordinal target was tried in this bootstrap."
    )
    targets = ""
    if worst_found is not None and worst_map is not None:
        ok_found, ok_map = worst_found >= 0.9, worst_map >= 0.8
        targets = (
            "- all three parts found >= 90 % on every condition: "
            f"**{'met' if ok_found else 'NOT met'}** "
            f"(worst {_pct(worst_found)})\n"
            f"- part mAP@0.5 >= 0.8 on every condition: **{'met' if ok_map else 'NOT met'}** "
            f"(worst {worst_map:.3f})\n"
            "- training <= 60 min on the 2-core CPU: "
            f"**{'met' if tr['minutes'] <= 60 else 'NOT met'}** "
            f"({tr['minutes']} min of training, {meta.get('wall_minutes', 'n/a')} min wall "
            "including labelling and evaluation)\n"
        )
    iou = check.get("mean_iou", {})
    n_test = clean["images"] if clean else "n/a"
    header = (
        "| condition | AP50 face | AP50 T-zone | AP50 jaw | mAP50 | all found (summed) "
        "| all found (single) | type acc. | majority |"
    )
    return f"""# face_regions: bootstrap region detector

Faster R-CNN with FPN (torchvision, `{meta.get("backbone", "mobilenet_v3_large_320_fpn")}`,
trained from scratch, no downloaded weights) that finds three face parts (whole face, T-zone, jaw)
on the gateway's upright 320 px face crop and labels each with one of five appearance types
(alpha, beta, gamma, delta, omega): 16 classes, label = 1 + 3 x type + part. fp16 checkpoint,
{size}. Head sizes: box head {meta["detector"]["box_head_width"]} wide,
{meta["detector"]["rpn_proposals"]} RPN proposals, {meta["detector"]["rois_per_image"]} RoIs
per image (pass `meta["detector"]` to `build_detector` when loading).

## What the type output means, and what it does not

- The part boxes are what this model is good at (figures below).
- {type_verdict} {type_line}. With {len(split["train"])} training people a from-scratch
  detector does not learn the raters' attractiveness tiers reliably. {probe_line}
  Treat the service's type answer as
  entertainment: it does not measure anything about the person, and must not be presented as a
  judgement of them.
- Types were learnt from *attractiveness ratings of studio photos by strangers*, a narrow and
  subjective notion; they say nothing about personality, status or worth.

## Data

{meta["dataset"]["attribution"]}. 102 people, two front photos each (neutral, smiling),
204 images, rated 1-7 by 2,513 raters. Read from `../shared/datasets/london-faces`; nothing
from it is stored in this repository.

- **Labels**: mean rating per face; faces **ranked within sex**
  (`--within {meta["labels"]["ranked_within"]}`; the seed ranked men only) and cut into types
  by the seed's quota rule with its survey shares
  {", ".join(f"{s:g}" for s in meta["labels"]["shares"])} % (alpha..omega; round, then fix an
  over/undershoot at the type whose fraction is nearest .5). Highest-rated get alpha. Every photo
  of a person gets that person's type.
- **Boxes**: auto-labelled from MTCNN's box and 5 landmarks (face = MTCNN box; T-zone = brows to
  nose base, outer eye corner to outer eye corner; jaw = nose base to chin, jaw line to jaw line),
  in the coordinates of the gateway's upright crop (`core.crop.upright_crop`, margin
  {meta["crop"]["margin"]}, {meta["crop"]["size"]} px). Against boxes derived from the hand-placed
  189-point landmarks of the {check.get("images", "n/a")} neutral photos, mean IoU: face
  {iou.get("face", "n/a")}, T-zone {iou.get("t_zone", "n/a")}, jaw {iou.get("jaw", "n/a")}
  (minimum {", ".join(f"{k} {v}" for k, v in check.get("min_iou", {}).items())}). The geometry
  constants are medians over the same landmarks, so these IoUs are in-sample.
- **Split by person** (seed {split["seed"]}, balanced by sex): {len(split["train"])} people train,
  {len(split["test"])} people test ({", ".join(split["test"])}); no test person is seen in
  training.

## Training

{tr["epochs"]} epochs, {tr["iterations"]} iterations, batch {tr["batch_size"]}, AdamW lr
{tr["lr"]} with linear warm-up and cosine decay, augmentation preset `{tr["aug"]}` (flip, small
rotation/scale/translation with boxes updated, colour/brightness/contrast jitter, low light,
grayscale, blur, JPEG recompression, noise, partial occlusion), {tr["device"]} with
{tr["threads"]} threads: **{tr["minutes"]} min** of training; final loss {tr["final_loss"]}.

## Evaluation on the {len(split["test"])} unseen people ({n_test} photos)

AP@0.5 per part (detections of a part's five type classes pooled, NMS within the part), all
three parts found under the **served summed rule** and the **seed's single-class rule**
(threshold {clean["threshold"] if clean else 0.75}), type accuracy (served outcome vs the
person's type) and the majority-class baseline. Perturbations are our own, fixed and seeded:
blur (Gaussian sigma 3), low_light (gain 0.3, gamma 1.5, noise), jpeg (quality 12), rotation
(+-12 degrees), occlusion (a 12 % patch), wild (blur + JPEG 25 + 8 degrees + dim + 6 % patch).

{header}
|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

{targets}
Confusion matrix (true type x served outcome): `{eval_dir}/confusion.png`; predictions over
unseen crops: `{eval_dir}/overlay.png`, `{eval_dir}/overlay_wild.png`; all figures:
`{eval_dir}/metrics.json`.

## Limits

- Studio photos: even lighting, frontal, neutral background, one face. Real selfies vary far
  more (background, light, pose, blur, compression, glasses, partial crops); the perturbations
  above only approximate that, and nothing here is measured on in-the-wild photos.
- {len(split["test"])} test people: each percentage moves in steps of
  {100 / max(1, clean["images"] if clean else 1):.1f} points.
- The London set's demographics (mostly white, aged 18-47 or so) limit how well boxes, and
  certainly types, carry to other people.
- Box labels are themselves automatic (MTCNN geometry), so AP measures agreement with the
  auto-labeller, not with people.

## Reproduce

```
{meta["command"]}
```

(the lead's `make train` target runs exactly this; `ALPHAMALE_DATASET_DIR` overrides the dataset
location). The run is seeded (split, initialisation, augmentation order), but CPU kernels and
thread scheduling can make a rerun differ slightly; the held-out people and the labels are
identical on every rerun. `python -m model_server.training evaluate` recomputes the figures of
the committed checkpoint. Licence of the training data: CC BY 4.0;
keep the attribution above wherever this model ships.
"""


UNTRAINED = "UNTRAINED: outputs are meaningless"


def checkpoint_card(version: str, meta: Mapping[str, Any]) -> str:
    """The short card of a checkpoint that has no written card (plumbing or ad-hoc versions)."""
    lines = [f"# face_regions {version}", ""]
    if not meta.get("trained", True):
        lines += [f"**{UNTRAINED}.** A randomly initialised detector, for plumbing only.", ""]
    lines += ["Faster R-CNN (FPN) region detector, 16 classes (spec 2.4).", "", "## meta", ""]
    lines += ["```json", json.dumps(meta, indent=2, sort_keys=True, default=str), "```", ""]
    return "\n".join(lines)


def write_model_card(path: Path, meta: Mapping[str, Any], weights: Path | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(model_card(meta, weights))


def type_model_card(figures: Mapping[str, Mapping[str, Any]], meta: Mapping[str, Any]) -> str:
    """TYPE_MODEL_CARD.md: what the type model measures, by person-grouped CV with its null."""
    protocol = meta["protocol"]

    def row(key: str, label: str) -> str:
        f = figures[key]
        r = "-" if f["r"] is None else f"{f['r']:.2f}"
        p_r = "-" if f.get("p_r") is None else f"{f['p_r']:.3f}"
        return (
            f"| {label} | {r} | {p_r} | {_pct(f['exact'])} | {_pct(f['within_one'])} | "
            f"{_pct(f['null_exact_mean'])} / {_pct(f['null_exact_p95'])} | {f['p_exact']:.3f} |"
        )

    names = {
        "face": "face (whole chip)",
        "t_zone": "T-zone only",
        "jaw": "jaw only",
        "average": "average of the three",
        "seed_vote": "seed's weighted vote",
    }
    lines = [
        "# Type model: ridge on dlib face embeddings",
        "",
        "The type is the raters' overall rating of a face, guessed from the 128-d embedding of "
        "dlib's ResNet (face_recognition_models: public domain models; dlib-bin: Boost licence) "
        "of the aligned face chip, and of that chip with all but the T-zone or the jaw filled "
        "with its mean colour. No data rates a jaw alone: a region's type means *overall "
        "rating guessed from that region's pixels*.",
        "",
        "## Protocol",
        "",
        f"London set ({meta['people']} people, {meta['photos']} photos; CC BY 4.0, "
        "DeBruine & Jones 2017). Target: a person's mean rating z-scored within sex. Outer "
        f"{protocol['folds']}-fold CV split by person, repeated {protocol['repeats']} times; "
        "the ridge strength is picked by an inner person-grouped 5-fold CV on the outer "
        "training set only. Types: out-of-fold scores cut by the seed's quota shares within "
        f"sex. Null: the whole protocol on {protocol['shuffles']} shuffles of the targets "
        "between people of the same sex. Majority baseline: "
        f"{_pct(meta['majority_baseline'])}.",
        "",
        "| predictor | r | p (r) | exact type | within one | null exact mean / 95th | p (exact) |",
        "|---|---|---|---|---|---|---|",
        *(row(k, v) for k, v in names.items()),
        "",
        "Men only:",
        "",
        "| predictor | r | p (r) | exact type | within one | null exact mean / 95th | p (exact) |",
        "|---|---|---|---|---|---|---|",
        *(row(f"{k}:men", v) for k, v in names.items()),
        "",
        f"**Served combination: {meta['served']}**: the best exact-type figure above on all "
        "people, from the same CV; on a tie the seed's vote (it keeps each region's meaning). "
        "Plots: `eval/type_model.scatter.png` (predicted vs rated, "
        "out of fold), `eval/type_model.null.png` (the null distribution).",
        "",
        "## What it does not mean",
        "",
        "- About one person in three gets exactly their raters' tier; about three in four "
        "within one tier. The type is entertainment, not a measurement of worth.",
        "- 102 young adults photographed in one studio, rated by strangers: narrow, and biased "
        "towards what those raters liked (younger faces rate higher).",
        "",
        f"Reproduce: `python -m model_server.training type-model` ({meta['minutes']} min here).",
        "",
    ]
    return "\n".join(lines)
