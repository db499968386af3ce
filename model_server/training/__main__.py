"""``python -m model_server.training``: see :mod:`model_server.training.cli`."""

from model_server.training.cli import cli

if __name__ == "__main__":
    raise SystemExit(cli())
