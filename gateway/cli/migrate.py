"""``python -m gateway.cli.migrate upgrade|downgrade|current|revision``: the app's database.

The URL is the app's own (``Settings``: ``ALPHAMALE_DATABASE_URL`` from the environment or
``.env``, else SQLite under ``ALPHAMALE_VAR_DIR``), so migrations and the app always agree.
"""

from __future__ import annotations

from db import migrate
from gateway.config import get_settings


def main(argv: list[str] | None = None) -> None:
    migrate.run(get_settings().database_url, argv, prog="python -m gateway.cli.migrate")


if __name__ == "__main__":
    main()
