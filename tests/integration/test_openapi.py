"""The OpenAPI document tells the truth: schemathesis, every check, against the served app.

The gateway runs under uvicorn on loopback (real PostgreSQL, a real TorchServe behind it), and
schemathesis's CLI (``st run``, as a person would run it) sends what the document allows and what
it forbids to every public operation.
Admin operations are left out: they change the session's shared TorchServe. The few settings
that differ from schemathesis's defaults are in ``schemathesis.toml`` beside this file, each
with its reason.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from core.dataset import default_dataset_dir
from gateway.main import create_app
from tests.fixtures.app import CONSENT, migrated_database, settings_for
from tests.fixtures.databases import drop_postgres_database
from tests.fixtures.services import free_port
from tests.fixtures.torchserve import TorchServeInstance

pytestmark = [pytest.mark.torchserve, pytest.mark.dataset, pytest.mark.slow]
CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = 200  # per operation and phase, on top of schemathesis's coverage phase
BANNER = re.compile(r"=+ (?P<message>.+?) =+")  # schemathesis's section and summary lines


@pytest.fixture(scope="module")
def live_url(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str, torchserve: TorchServeInstance
) -> Iterator[str]:
    """The gateway served by uvicorn on a free loopback port."""
    database = asyncio.run(migrated_database(postgres_url))
    options = settings_for(
        tmp_path_factory.mktemp("openapi"),
        database,
        None,
        model_inference_url=torchserve.inference_url,
        model_management_url=torchserve.management_url,
        model_timeout_s=60.0,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(options), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        asyncio.run(drop_postgres_database(postgres_url, database))


def stored_analysis(live_url: str) -> tuple[str, str]:
    """The id and delete token of a real analysis of a London face, stored through the live
    gateway."""
    photo = default_dataset_dir() / "images" / "004_03.jpg"
    if not photo.is_file():
        pytest.skip(f"London Face set not found at {photo.parent} (set ALPHAMALE_DATASET_DIR)")
    response = httpx.post(
        f"{live_url}/v1/analyses",
        data={"mbti": "INTJ", "birth_date": "1995-04-17", "consent": CONSENT},
        files={"image": ("face.jpg", photo.read_bytes(), "image/jpeg")},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"], response.json()["delete_token"]


def started_group(live_url: str, analysis_id: str, token: str) -> str:
    """The code of a group that analysis started."""
    body = {"analysis_id": analysis_id, "delete_token": token, "nickname": "Owner"}
    response = httpx.post(f"{live_url}/v1/groups", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["code"]


def test_every_operation_keeps_its_documented_contract(live_url: str, tmp_path: Path) -> None:
    """``st run`` with every check; its report is the failure message."""
    analysis_id, token = stored_analysis(live_url)
    env = {
        **os.environ,
        "ALPHAMALE_ST_ANALYSIS_ID": analysis_id,
        "ALPHAMALE_ST_GROUP_CODE": started_group(live_url, analysis_id, token),
    }
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{live_url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--exclude-path-regex",
        "^/v1/admin",
        "--seed",
        "20261125",
        "--request-timeout",
        "120",
        "--workers",
        "1",
        "--no-color",
    ]
    run = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-20000:]
    assert summary(run.stdout) == "No issues found", report[-20000:]


def summary(stdout: str) -> str:
    """The verdict of schemathesis's closing banner (``==== No issues found in 81.20s ====``),
    without its time: a run with failures, errors or warnings (which exit 0 unless configured
    to fail) says so there, and a run that tested nothing says that instead."""
    banners = [
        m["message"] for line in stdout.splitlines() if (m := BANNER.fullmatch(line.strip()))
    ]
    assert banners, stdout[-5000:]
    return re.sub(r" in \d+(\.\d+)?s$", "", banners[-1])
