"""Retention: delete what is past its period, each photo together with its row.

- analyses older than ``retention_days`` (30), and results of the legacy endpoint older than
  ``legacy_retention_days`` (1: their person has no delete token);
- groups left empty by those deletions, and groups nobody started, joined, left or rotated for
  ``group_retention_days`` (the retention period unless set);
- the rate store's expired rows (keyed hashes of client addresses, kept no longer than they
  limit).

Usage: ``python -m gateway.cli.purge [--days N] [--legacy-days N] [--dry-run]`` (the defaults are
the settings). An object that is already gone is fine; when storage fails, the row stays so the
next run retries it, and the failure is reported. Always exits 0 once it has run. Where the
service runs in the cloud a daily schedule runs it (infra/terraform: EventBridge Scheduler).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from db import groups, queries, rate_limits
from db.models import Analysis
from gateway.analyses.deps import analysis_service
from gateway.config import Settings, get_settings
from gateway.context import AppContext, app_context
from gateway.errors import AppError

BATCH_SIZE = 500


@dataclass(frozen=True)
class Retention:
    """How long each kind of record is kept, in days."""

    days: int
    legacy_days: int
    group_days: int

    def cutoffs(self, now: datetime) -> tuple[datetime, datetime, datetime]:
        """(analyses, legacy results, idle groups): what is older goes."""
        return tuple(
            now - timedelta(days=d) for d in (self.days, self.legacy_days, self.group_days)
        )  # type: ignore[return-value]


@dataclass
class PurgeReport:
    retention: Retention
    cutoff: datetime
    legacy_cutoff: datetime
    group_cutoff: datetime
    dry_run: bool = False
    matched: int = 0  # dry run: analyses that would go
    idle_groups_matched: int = 0  # dry run: idle groups that would go
    deleted: int = 0
    objects_missing: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (analysis id, reason)
    groups_emptied: int = 0  # removed when their last member's result was purged
    idle_groups_deleted: int = 0
    rate_rows_deleted: int = 0

    def summary(self) -> str:
        r = self.retention
        when = (
            f"older than {r.days} days (legacy results: {r.legacy_days}; before "
            f"{self.cutoff:%Y-%m-%d %H:%M} UTC)"
        )
        idle = f"groups idle for {r.group_days} days"
        if self.dry_run:
            return (
                f"Dry run: {self.matched} analyses {when} and {self.idle_groups_matched} {idle} "
                "would be purged; nothing changed."
            )
        return (
            f"Purged {self.deleted} analyses {when}; {self.objects_missing} objects were already "
            f"missing; {len(self.failures)} failed and remain for the next run; "
            f"{self.groups_emptied} groups left empty and {self.idle_groups_deleted} {idle} "
            f"deleted; {self.rate_rows_deleted} expired rate-limit rows deleted."
        )


async def purge_one(context: AppContext, analysis: Analysis, report: PurgeReport) -> bool:
    """Photo and row together (see :meth:`AnalysisService.remove`); True when the row is gone."""
    try:
        # deleting a missing key succeeds on every backend: look first, to report it
        if not await context.storage.exists(analysis.object_key):
            report.objects_missing += 1
        report.groups_emptied += await analysis_service(context).remove(analysis.id) or 0
    except AppError as exc:
        report.failures.append((analysis.id, exc.detail))
        return False
    report.deleted += 1
    return True


async def purge(
    context: AppContext, retention: Retention, dry_run: bool = False, batch_size: int = BATCH_SIZE
) -> PurgeReport:
    """Delete what is past its retention, in batches, oldest first."""
    cutoff, legacy_cutoff, group_cutoff = retention.cutoffs(datetime.now(UTC))
    report = PurgeReport(retention, cutoff, legacy_cutoff, group_cutoff, dry_run=dry_run)
    if dry_run:
        async with context.sessions() as session:
            report.matched = await queries.count_expired_analyses(session, cutoff, legacy_cutoff)
            report.idle_groups_matched = await groups.count_idle_groups(session, group_cutoff)
        return report
    async with context.sessions.begin() as session:
        report.rate_rows_deleted = await rate_limits.delete_expired(session, time.time())
        report.idle_groups_deleted = await groups.delete_idle_groups(session, group_cutoff)
    failed: set[str] = set()  # kept this run; they come back first in every later batch
    while True:
        async with context.sessions() as session:
            batch = await queries.expired_analyses(session, cutoff, legacy_cutoff, batch_size)
        fresh = [analysis for analysis in batch if analysis.id not in failed]
        for analysis in fresh:
            if not await purge_one(context, analysis, report):
                failed.add(analysis.id)
        if len(batch) < batch_size or not fresh:
            return report


def parse_args(argv: list[str] | None, settings: Settings) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gateway.cli.purge", description=__doc__)
    parser.add_argument(
        "--days",
        type=int,
        default=settings.retention_days,
        metavar="N",
        help=f"delete analyses older than N days (default {settings.retention_days})",
    )
    parser.add_argument(
        "--legacy-days",
        type=int,
        default=settings.legacy_retention_days,
        metavar="N",
        help="delete the legacy endpoint's results older than N days "
        f"(default {settings.legacy_retention_days})",
    )
    parser.add_argument("--dry-run", action="store_true", help="count only; change nothing")
    args = parser.parse_args(argv)
    if args.days < 0 or args.legacy_days < 0:
        parser.error("--days and --legacy-days must be >= 0")
    return args


async def run(settings: Settings, retention: Retention, dry_run: bool) -> PurgeReport:
    async with app_context(settings) as context:
        return await purge(context, retention, dry_run)


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    settings = settings or get_settings()
    args = parse_args(argv, settings)
    assert settings.group_retention_days is not None  # the settings default it
    retention = Retention(
        args.days, min(args.legacy_days, args.days), settings.group_retention_days
    )
    report = asyncio.run(run(settings, retention, args.dry_run))
    for analysis_id, reason in report.failures:
        print(f"kept {analysis_id}: {reason}", file=sys.stderr)
    print(report.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
