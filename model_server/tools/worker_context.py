"""Run a handler in this process, as a TorchServe worker would: for tests, benchmarks, training.

``local_context`` stands in for TorchServe's context (manifest, model dir, the model-config yaml,
the handler's timings); ``handler.handle([{"body": bytes}], context)`` then answers exactly as
in a worker.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from model_server.paths import CONFIG_DIR


def model_config(name: str, **handler: Any) -> dict[str, Any]:
    """The served ``config/<name>.yaml``, with ``handler:`` settings overridden."""
    config = yaml.safe_load((CONFIG_DIR / f"{name}.yaml").read_text())
    config["handler"].update(handler)
    return config


class HandlerTimes:
    """What a handler reports to TorchServe's metrics (``add_time``), kept for a look."""

    def __init__(self) -> None:
        self.times: list[tuple[str, float]] = []

    def add_time(self, name: str, value: float, *args: Any, **kwargs: Any) -> None:
        self.times.append((name, value))


def local_context(
    name: str,
    model_dir: Path,
    config: dict[str, Any] | None = None,
    serialized: str | None = None,
    batch_size: int = 4,
) -> SimpleNamespace:
    """A stand-in for TorchServe's context (version 1.0, CPU)."""
    manifest: dict[str, Any] = {
        "model": {"modelName": name, "modelVersion": "1.0", "handler": f"{name}.py"}
    }
    if serialized:
        manifest["model"]["serializedFile"] = serialized
    return SimpleNamespace(
        system_properties={"model_dir": str(model_dir), "gpu_id": None, "batch_size": batch_size},
        manifest=manifest,
        model_yaml_config=config if config is not None else model_config(name),
        metrics=HandlerTimes(),
        get_request_header=lambda index, key: None,
    )
