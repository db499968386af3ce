"""Build the TorchServe archives (.mar) with torch-model-archiver.

    python -m model_server.tools.archive build-all --store model_store [--version 1.0]
    python -m model_server.tools.archive build --name face_regions --version 2.0 \
        --checkpoint PATH [--model-config YAML] --store model_store  # face_regions-2.0.mar

Each archive holds its handler, the whole serving runtime (``model_server/runtime``) and the
torch-free ``core`` it imports (nothing is picked by hand: an import added to the runtime ships
with it), its model-config yaml and a MODEL_CARD.md. ``face_regions`` uses
``model_server/weights/face_regions.pt`` when it exists, else a seeded untrained checkpoint whose
model card says so; ``face_type`` ships ``model_server/weights/type_model.json`` and
``face_net.pt``, dlib's face network converted from face_recognition_models' ``.dat`` by
:mod:`model_server.tools.dlib_weights` at build time (nothing downloaded, nothing large in git).
An archive is rebuilt only when the fingerprint of its inputs (file contents, version) changed, so
``make models`` is quick when nothing did.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from core.taxonomy import MODEL_NAMES
from model_server.paths import CONFIG_DIR, MODEL_SERVER_DIR, REPO_ROOT, RUNTIME_DIR, WEIGHTS_DIR
from model_server.tools import dlib_weights

DEFAULT_VERSION = "1.0"
# What ships into every archive, whole: the serving runtime and the torch-free core it imports
# (the worker runs in the extracted archive, which TorchServe puts on its ``sys.path``).
SHIPPED_PACKAGES = (REPO_ROOT / "core", RUNTIME_DIR)


def shipped_files() -> list[Path]:
    """Every Python file of the shipped packages, plus ``model_server/__init__.py``."""
    files = [MODEL_SERVER_DIR / "__init__.py"]
    for package in SHIPPED_PACKAGES:
        files += sorted(package.rglob("*.py"))
    return files


FACE_CHECK_CARD = """# face_check

MTCNN face detector (facenet-pytorch 2.6.0; its pretrained P/R/O-net weights ship in the wheel,
trained on WIDER FACE and CelebA). Returns every face with box, five landmarks and probability,
largest first. Settings: the `handler:` section of this archive's model-config yaml.
"""


@dataclass(frozen=True)
class ArchiveSpec:
    """Everything one .mar is built from."""

    name: str
    version: str
    archive_name: str
    checkpoint: Path | None  # the serialized model; face_regions: None makes an untrained one
    model_card: Path | None
    model_config: Path | None = None  # model-config yaml; None means config/<name>.yaml

    @property
    def handler(self) -> Path:
        return RUNTIME_DIR / "handlers" / f"{self.name}.py"

    @property
    def config(self) -> Path:
        return self.model_config or CONFIG_DIR / f"{self.name}.yaml"

    def inputs(self) -> list[Path]:
        files = [*shipped_files(), self.config]
        if self.name == "face_type":  # the converted face network: its source and its converter
            files += [dlib_weights.model_file(dlib_weights.DAT_NAME), Path(dlib_weights.__file__)]
        return files + [p for p in (self.checkpoint, self.model_card) if p is not None]

    def fingerprint(self) -> str:
        digest = hashlib.sha256(f"{self.name}|{self.version}|{self.checkpoint is None}".encode())
        for path in self.inputs():
            name = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path.name
            digest.update(str(name).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()


SERIALIZED = {"face_regions": "face_regions.pt", "face_type": "type_model.json"}
FACE_NET = "face_net.pt"  # face_type's converted face network (the handler's ``face_net``)


def default_spec(name: str, version: str = DEFAULT_VERSION) -> ArchiveSpec:
    """What ``build-all`` builds for ``name``: the served weights when present."""
    if name == "face_check":
        return ArchiveSpec(name, version, name, None, None)
    if name not in SERIALIZED:
        raise ValueError(f"unknown model {name!r}")
    weights = WEIGHTS_DIR / SERIALIZED[name]
    if name == "face_type" and not weights.is_file():
        raise FileNotFoundError(f"{weights} is missing: python -m model_server.training type-model")
    card = WEIGHTS_DIR / "MODEL_CARD.md"
    return ArchiveSpec(
        name,
        version,
        name,
        weights if weights.is_file() else None,
        card if weights.is_file() and card.is_file() else None,
    )


def stamp_path(store: Path, archive_name: str) -> Path:
    return store / f".{archive_name}.inputs"


def is_up_to_date(spec: ArchiveSpec, store: Path) -> bool:
    mar, stamp = store / f"{spec.archive_name}.mar", stamp_path(store, spec.archive_name)
    return mar.is_file() and stamp.is_file() and stamp.read_text() == spec.fingerprint()


def model_card(spec: ArchiveSpec, checkpoint: Path | None) -> str:
    """The archive's MODEL_CARD.md text."""
    if spec.name == "face_check":
        return FACE_CHECK_CARD
    if spec.model_card is not None:
        return spec.model_card.read_text()
    if spec.name == "face_type":
        return type_artefact_card(spec.checkpoint)
    from model_server.cards.detector_card import checkpoint_card
    from model_server.runtime.checkpoint import load_checkpoint  # torch only when building

    meta = load_checkpoint(checkpoint).meta if checkpoint else {"trained": False}
    return checkpoint_card(spec.version, meta)


def type_artefact_card(artefact: Path | None) -> str:
    """The short card of a type-model artefact that ships without the full card."""
    if artefact is None:
        raise FileNotFoundError("face_type needs a type_model.json")
    body = json.loads(artefact.read_text())
    figures = json.dumps(body.get("metrics", {}), indent=2, sort_keys=True)
    return (
        f"# face_type ({artefact.name})\n\nRidge regressions on dlib face embeddings; served "
        f"combination: {body.get('served')}. Cross-validated figures:\n\n```json\n{figures}\n```\n"
    )


def stage(spec: ArchiveSpec, work: Path) -> tuple[list[Path], Path | None]:
    """Copy the shipped package and the model card into ``work``, convert face_type's face
    network; make a checkpoint if needed. Returns (extra files, checkpoint)."""
    for source in shipped_files():
        target = work / "extra" / source.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    checkpoint = spec.checkpoint
    if spec.name == "face_regions" and checkpoint is None:
        from model_server.runtime.checkpoint import make_untrained_checkpoint

        checkpoint = make_untrained_checkpoint(work / "face_regions.pt")
    card = work / "MODEL_CARD.md"
    card.write_text(model_card(spec, checkpoint))
    extra = [work / "extra", card]
    if spec.name == "face_type":
        extra.append(dlib_weights.convert(work / FACE_NET))
    return extra, checkpoint


def archiver_command(spec: ArchiveSpec, work: Path, export: Path) -> list[str]:
    extra, checkpoint = stage(spec, work)
    tool = Path(sys.executable).parent / "torch-model-archiver"
    command = [str(tool) if tool.exists() else "torch-model-archiver"]
    command += ["--model-name", spec.name, "--version", spec.version]
    command += ["--handler", str(spec.handler), "--config-file", str(spec.config)]
    command += ["--extra-files", ",".join(map(str, extra)), "--export-path", str(export)]
    command += ["--force"]
    if checkpoint is not None:
        command += ["--serialized-file", str(checkpoint)]
    return command


def build(spec: ArchiveSpec, store: Path, *, force: bool = False) -> bool:
    """Build ``store/<archive_name>.mar`` unless up to date; True when it was (re)built."""
    store.mkdir(parents=True, exist_ok=True)
    if not force and is_up_to_date(spec, store):
        return False
    fingerprint = spec.fingerprint()
    with tempfile.TemporaryDirectory(prefix="mar-") as tmp:
        work, export = Path(tmp) / "work", Path(tmp) / "export"
        work.mkdir()
        export.mkdir()
        # The archiver stages files in $TMPDIR/<model name>: a private TMPDIR avoids clashes.
        env = {**os.environ, "TMPDIR": tmp}
        subprocess.run(archiver_command(spec, work, export), check=True, env=env)
        partial = store / f".{spec.archive_name}.mar.partial"
        shutil.copyfile(export / f"{spec.name}.mar", partial)
        partial.replace(store / f"{spec.archive_name}.mar")  # atomic for running readers
    stamp_path(store, spec.archive_name).write_text(fingerprint)
    return True


def build_all(store: Path, version: str = DEFAULT_VERSION, *, force: bool = False) -> None:
    for name in MODEL_NAMES:
        spec = default_spec(name, version)
        started = time.monotonic()
        built = build(spec, store, force=force)
        state = f"built in {time.monotonic() - started:.1f} s" if built else "up to date"
        untrained = (
            " (UNTRAINED checkpoint)" if name == "face_regions" and not spec.checkpoint else ""
        )
        print(f"{store / (spec.archive_name + '.mar')}: {state}{untrained}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m model_server.tools.archive", description=__doc__
    )
    commands = parser.add_subparsers(dest="command", required=True)
    every = commands.add_parser("build-all", help="every model's .mar (core.taxonomy.MODEL_NAMES)")
    every.add_argument("--store", type=Path, required=True)
    every.add_argument("--version", default=DEFAULT_VERSION)
    every.add_argument("--force", action="store_true", help="rebuild even when up to date")
    one = commands.add_parser("build", help="one archive, e.g. a second version")
    one.add_argument("--name", choices=MODEL_NAMES, required=True)
    one.add_argument("--store", type=Path, required=True)
    one.add_argument("--version", default=DEFAULT_VERSION)
    one.add_argument("--checkpoint", type=Path, help="serialized model (default: the served one)")
    one.add_argument("--model-card", type=Path, help="MODEL_CARD.md to ship")
    one.add_argument(
        "--model-config", type=Path, help="model-config yaml (default: config/NAME.yaml)"
    )
    one.add_argument("--archive-name", help="file name without .mar (default NAME-VERSION)")
    one.add_argument("--force", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.command == "build-all":
        build_all(args.store, args.version, force=args.force)
        return
    base = default_spec(args.name, args.version)
    checkpoint = args.checkpoint.resolve() if args.checkpoint else base.checkpoint
    card = args.model_card or (base.model_card if checkpoint == base.checkpoint else None)
    spec = ArchiveSpec(
        name=args.name,
        version=args.version,
        archive_name=args.archive_name or f"{args.name}-{args.version}",
        checkpoint=checkpoint if args.name in SERIALIZED else None,
        model_card=card,
        model_config=args.model_config,
    )
    built = build(spec, args.store, force=args.force)
    print(f"{args.store / (spec.archive_name + '.mar')}: {'built' if built else 'up to date'}")


if __name__ == "__main__":
    main()
