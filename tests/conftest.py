"""Shared fixtures: real PostgreSQL, a real S3 API and a real TorchServe (see tests/fixtures).

No test reads the developer's settings: every test (and every session fixture) runs with the
``ALPHAMALE_*`` settings variables removed and ``.env`` unread, so ``Settings(var_dir=tmp_path)``
is the embedded default in ``tmp_path`` (SQLite and local files there), never a database that a
``.env`` or the shell names. Only the variables that say where the tests find their inputs
(:data:`HARNESS_VARIABLES`) are kept.

Under CI (``CI`` set) a skipped test fails with its reason: there the dataset, the services and
the browser must all be present, so a green run means every test ran.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator

import pytest

from core.dataset import DATASET_ENV
from gateway.config import Settings, get_settings

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.databases",
    "tests.fixtures.s3",
    "tests.fixtures.app",
    "tests.fixtures.torchserve",
    "tests.fixtures.results",
    "tests.fixtures.london",
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


# Where the tests find their inputs (the London set, Chromium), not settings of the gateway.
HARNESS_VARIABLES = frozenset({DATASET_ENV, "ALPHAMALE_CHROMIUM"})


def isolate_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the ``ALPHAMALE_*`` settings variables and stop ``Settings`` reading ``.env``
    (undone with ``monkeypatch``)."""
    for name in list(os.environ):
        if name.upper().startswith("ALPHAMALE_") and name not in HARNESS_VARIABLES:
            monkeypatch.delenv(name)
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    get_settings.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _no_settings_of_the_session() -> Iterator[None]:
    """For the session fixtures (they start before any test's own fixtures)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        isolate_settings(monkeypatch)
        yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _no_settings_of_the_developer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """For each test: again, in case something before it set a variable."""
    isolate_settings(monkeypatch)
    yield
    get_settings.cache_clear()
