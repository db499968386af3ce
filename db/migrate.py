"""Run Alembic migrations without an alembic.ini, for one database URL.

The app's URL comes from its settings: ``python -m gateway.cli.migrate`` (``make migrate``) reads
them and calls these. Alembic's env runs its own event loop: from async code call these through
``asyncio.to_thread``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def run(
    url: str, argv: list[str] | None = None, prog: str = "python -m gateway.cli.migrate"
) -> None:
    """The command line: upgrade | downgrade | current | revision, on ``url``."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("action", choices=["upgrade", "downgrade", "current", "revision"])
    parser.add_argument("revision", nargs="?", help="target (default: head / base)")
    parser.add_argument("-m", "--message", default="change", help="message for 'revision'")
    args = parser.parse_args(argv)
    config = alembic_config(url)
    if args.action == "upgrade":
        command.upgrade(config, args.revision or "head")
    elif args.action == "downgrade":
        command.downgrade(config, args.revision or "base")
    elif args.action == "current":
        command.current(config, verbose=True)
    else:
        command.revision(config, message=args.message, autogenerate=True)
