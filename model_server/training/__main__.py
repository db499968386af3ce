"""``python -m model_server.training <subcommand>``: every subcommand, and where it lives.

Each subcommand is a parser (``add_help=False``, used as the subparser's parent) and a function
of the parsed arguments (its return value is the exit status when it is an ``int``, else 0).
"""

import os

# One OpenBLAS thread (set before numpy loads): the type model's fits are many small ridge
# solves, which two threads made slower here; the null runs its shuffles in two processes
# instead. Torch sets its own threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from model_server.cards import model_card
from model_server.training.face_regions import cli as regions_cli
from model_server.training.face_regions import evaluate as regions_evaluate
from model_server.training.face_regions import train as regions_train
from model_server.training.face_type import choose, face_net_parity, variant_features, views
from model_server.training.face_type import cli as type_cli


@dataclass(frozen=True)
class Subcommand:
    help: str
    parser: Callable[[bool], argparse.ArgumentParser]
    run: Callable[[argparse.Namespace], Any]


SUBCOMMANDS: dict[str, Subcommand] = {
    # the type model (model_server/training/face_type)
    "labels": Subcommand(
        "ratings -> mean per face -> types (seed's quota rule)",
        type_cli.labels_parser,
        type_cli.labels,
    ),
    "type-model": Subcommand(
        "the type model: embeddings, person-grouped CV, permutation null, artefact",
        type_cli.get_args_parser,
        type_cli.main,
    ),
    "type-variants": Subcommand(
        "every London photo's served features under the stability edits (cached under var/)",
        variant_features.get_args_parser,
        variant_features.main,
    ),
    "type-choose": Subcommand(
        "the steady type model's penalty and rule, chosen on the choosing half",
        choose.get_args_parser,
        choose.main,
    ),
    "type-views": Subcommand(
        "test-time views of the type model's features, chosen by variant stability",
        views.get_args_parser,
        views.main,
    ),
    "face-net-parity": Subcommand(
        "the torch face network against dlib-bin's on the London chips",
        face_net_parity.get_args_parser,
        face_net_parity.main,
    ),
    # the part detector (model_server/training/face_regions)
    "autolabel": Subcommand(
        "face / T-zone / jaw boxes from MTCNN landmarks (COCO JSON)",
        regions_cli.autolabel_parser,
        regions_cli.autolabel,
    ),
    "train": Subcommand("train the detector", regions_train.get_args_parser, regions_train.main),
    "evaluate": Subcommand(
        "evaluate a checkpoint on its held-out people",
        regions_evaluate.get_args_parser,
        regions_evaluate.main,
    ),
    "archive": Subcommand(
        "checkpoint -> face_regions .mar (via model_server.tools.archive)",
        regions_cli.archive_parser,
        regions_cli.archive,
    ),
    # both (model_server/cards)
    "card": Subcommand(
        "MODEL_CARD.md from the type model's metrics and the detector's run",
        model_card.get_args_parser,
        model_card.main,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m model_server.training", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in SUBCOMMANDS.items():
        sub.add_parser(name, parents=[command.parser(False)], help=command.help).set_defaults(
            run=command.run
        )
    return parser


def cli(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    status = args.run(args)
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    raise SystemExit(cli())
