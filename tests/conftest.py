"""Shared fixtures: real PostgreSQL, a real S3 API and a real TorchServe (see tests/fixtures)."""

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.databases",
    "tests.fixtures.s3",
    "tests.fixtures.app",
    "tests.fixtures.torchserve",
]
