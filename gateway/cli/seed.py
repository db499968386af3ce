"""Seed a fresh install: the five types, then the demo catalog (idempotent).

Usage: ``python -m gateway.cli.seed [--catalog-per-type 6] [--no-catalog]`` after migrations.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass

from db.seed import seed_types
from gateway.catalog.deps import catalog_service
from gateway.cli.demo_catalog import seed_demo_catalog
from gateway.config import Settings, get_settings
from gateway.context import app_context


@dataclass(frozen=True)
class SeedReport:
    types_changed: int
    catalog_added: int

    def summary(self, catalog: bool) -> str:
        images = f"{self.catalog_added} demo catalog images added" if catalog else "catalog skipped"
        return f"Seeded: {self.types_changed} types inserted or updated, {images}."


async def seed(settings: Settings, per_type: int = 6, catalog: bool = True) -> SeedReport:
    """Seed types, then top up the catalog to ``per_type`` images per type."""
    async with app_context(settings) as context:
        async with context.sessions() as session:
            changed = await seed_types(session)
        added = await seed_demo_catalog(catalog_service(context), per_type) if catalog else 0
    return SeedReport(changed, added)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gateway.cli.seed", description=__doc__)
    parser.add_argument(
        "--catalog-per-type",
        type=int,
        default=6,
        metavar="N",
        help="demo images per type to top up to (default 6)",
    )
    parser.add_argument("--no-catalog", action="store_true", help="seed the types only")
    args = parser.parse_args(argv)
    if args.catalog_per_type < 0:
        parser.error("--catalog-per-type must be >= 0")
    return args


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    args = parse_args(argv)
    report = asyncio.run(
        seed(settings or get_settings(), args.catalog_per_type, catalog=not args.no_catalog)
    )
    print(report.summary(catalog=not args.no_catalog))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
