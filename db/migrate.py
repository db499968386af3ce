"""Run Alembic migrations without an alembic.ini: `python -m db.migrate upgrade|downgrade`.

The URL is ``--url`` or ``$ALPHAMALE_DATABASE_URL`` (SQLite under ./var by default). Alembic's
env runs its own event loop: from async code call these through ``asyncio.to_thread``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command
from alembic.config import Config

from db.session import database_url_from_env

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", (url or database_url_from_env()).replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["upgrade", "downgrade", "current", "revision"])
    parser.add_argument("revision", nargs="?", help="target (default: head / base)")
    parser.add_argument("--url", help="database URL (default: $ALPHAMALE_DATABASE_URL)")
    parser.add_argument("-m", "--message", default="change", help="message for 'revision'")
    args = parser.parse_args(argv)
    config = alembic_config(args.url)
    if args.action == "upgrade":
        command.upgrade(config, args.revision or "head")
    elif args.action == "downgrade":
        command.downgrade(config, args.revision or "base")
    elif args.action == "current":
        command.current(config, verbose=True)
    else:
        command.revision(config, message=args.message, autogenerate=True)


if __name__ == "__main__":
    main()
