"""The training package's shape: one package per model, its subcommands, short functions.

A newcomer finds a feature by its model's package and its step (data, train, evaluate, cli);
nothing shares a module name with the serving runtime; the command line keeps its subcommands
and options, with the shared parameters' defaults from ``core.parameters``.
"""

from __future__ import annotations

import ast

import jinja2
import pytest

from core.parameters import CROP, PART_THRESHOLD
from model_server.cards import render
from model_server.paths import MODEL_SERVER_DIR, REPO_ROOT, RUNTIME_DIR
from model_server.training.__main__ import SUBCOMMANDS, build_parser

TRAINING = MODEL_SERVER_DIR / "training"
RUNTIME = RUNTIME_DIR
LONGEST = 60  # lines a function may take, decorators and docstring included


def test_no_training_module_is_named_like_a_runtime_one() -> None:
    runtime = {p.stem for p in RUNTIME.rglob("*.py")} - {"__init__", "__main__"}
    training = {p.stem for p in TRAINING.rglob("*.py")}
    assert training & runtime == set()


def lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
    return (node.end_lineno or node.lineno) - start + 1


def test_no_function_is_longer_than_sixty_lines() -> None:
    long = {
        f"{path.relative_to(REPO_ROOT)}:{node.lineno} {node.name}": lines(node)
        for path in TRAINING.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and lines(node) > LONGEST
    }
    assert long == {}


def test_every_subcommand_is_registered() -> None:
    assert set(SUBCOMMANDS) == {
        "labels", "autolabel", "train", "evaluate", "card", "archive",
        "type-model", "type-variants", "type-choose", "type-views", "face-net-parity",
    }  # fmt: skip


def test_shared_defaults_come_from_the_contract() -> None:
    parser = build_parser()
    autolabel = parser.parse_args(["autolabel"])
    assert (autolabel.crop_size, autolabel.margin) == (CROP.size, CROP.margin)
    train = parser.parse_args(["train", "--epochs", "1", "--resume", "auto"])
    assert (train.image_size, train.threshold, train.epochs) == (CROP.size, PART_THRESHOLD, 1)
    assert parser.parse_args(["evaluate"]).threshold == PART_THRESHOLD


def test_a_card_missing_a_figure_fails_to_render() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render("checkpoint.md.j2", version="1.0", trained=True)  # no meta_json
