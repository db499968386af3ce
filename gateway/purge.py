"""Retention: delete analyses older than N days, each photo together with its row, and the
rate store's expired rows (keyed hashes of client addresses, kept no longer than they limit).

Usage: ``python -m gateway.purge [--days N] [--dry-run]`` (N defaults to the
``retention_days`` setting). An object that is already gone is fine; when storage fails, the row
stays so the next run retries it, and the failure is reported. Always exits 0 once it has run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from db import rate_limits, repositories
from db.models import Analysis
from gateway.config import Settings, get_settings
from gateway.context import AppContext, app_context
from gateway.errors import AppError

BATCH_SIZE = 500


@dataclass
class PurgeReport:
    cutoff: datetime
    dry_run: bool = False
    matched: int = 0  # dry run: rows that would go
    deleted: int = 0
    objects_missing: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (analysis id, reason)
    rate_rows_deleted: int = 0

    def summary(self, days: int) -> str:
        when = f"older than {days} days (before {self.cutoff:%Y-%m-%d %H:%M} UTC)"
        if self.dry_run:
            return f"Dry run: {self.matched} analyses {when} would be purged; nothing changed."
        return (
            f"Purged {self.deleted} analyses {when}; {self.objects_missing} objects were already "
            f"missing; {len(self.failures)} failed and remain for the next run; "
            f"{self.rate_rows_deleted} expired rate-limit rows deleted."
        )


async def count_before(context: AppContext, cutoff: datetime) -> int:
    async with context.sessions() as session:
        return await repositories.count_analyses_created_before(session, cutoff)


async def purge_one(context: AppContext, analysis: Analysis, report: PurgeReport) -> bool:
    """Photo and row together (see :meth:`AnalysisService.remove`); True when the row is gone."""
    try:
        # deleting a missing key succeeds on every backend: look first, to report it
        if not await context.storage.exists(analysis.object_key):
            report.objects_missing += 1
        await context.analysis_service().remove(analysis.id)
    except AppError as exc:
        report.failures.append((analysis.id, exc.detail))
        return False
    report.deleted += 1
    return True


async def purge(
    context: AppContext, days: int, dry_run: bool = False, batch_size: int = BATCH_SIZE
) -> PurgeReport:
    """Delete analyses created more than ``days`` days ago, in batches, oldest first."""
    report = PurgeReport(cutoff=datetime.now(UTC) - timedelta(days=days), dry_run=dry_run)
    if dry_run:
        report.matched = await count_before(context, report.cutoff)
        return report
    async with context.sessions.begin() as session:
        report.rate_rows_deleted = await rate_limits.delete_expired(session, time.time())
    failed: set[str] = set()  # kept this run; they come back first in every later batch
    while True:
        async with context.sessions() as session:
            batch = await repositories.analyses_created_before(session, report.cutoff, batch_size)
        fresh = [analysis for analysis in batch if analysis.id not in failed]
        for analysis in fresh:
            if not await purge_one(context, analysis, report):
                failed.add(analysis.id)
        if len(batch) < batch_size or not fresh:
            return report


def parse_args(argv: list[str] | None, default_days: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gateway.purge", description=__doc__)
    parser.add_argument(
        "--days",
        type=int,
        default=default_days,
        metavar="N",
        help=f"delete analyses older than N days (default {default_days}, the retention setting)",
    )
    parser.add_argument("--dry-run", action="store_true", help="count only; change nothing")
    args = parser.parse_args(argv)
    if args.days < 0:
        parser.error("--days must be >= 0")
    return args


async def run(settings: Settings, days: int, dry_run: bool) -> PurgeReport:
    async with app_context(settings) as context:
        return await purge(context, days, dry_run)


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    settings = settings or get_settings()
    args = parse_args(argv, settings.retention_days)
    report = asyncio.run(run(settings, args.days, args.dry_run))
    for analysis_id, reason in report.failures:
        print(f"kept {analysis_id}: {reason}", file=sys.stderr)
    print(report.summary(args.days))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
