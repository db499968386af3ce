"""Shared fixtures: real PostgreSQL, a real S3 API and a real TorchServe (see tests/fixtures).

Under CI (``CI`` set) a skipped test fails with its reason: there the dataset, the services and
the browser must all be present, so a green run means every test ran.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.databases",
    "tests.fixtures.s3",
    "tests.fixtures.app",
    "tests.fixtures.torchserve",
    "tests.fixtures.results",
]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, which must run every test: {reason}"
