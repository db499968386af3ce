"""The README's curl examples work against a live gateway (uvicorn) and a real TorchServe.

The gateway runs as `make run` runs it (SQLite, local files); the examples are taken from the
README's API section and run with bash and curl, with only host, photo, id and token filled in.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from PIL import Image

from gateway.config import Settings
from gateway.main import create_app
from tests.fixtures.app import CONSENT, prepare_database
from tests.fixtures.services import free_port
from tests.fixtures.torchserve import TorchServeInstance
from tests.integration.test_e2e import DATASET

pytestmark = [pytest.mark.torchserve, pytest.mark.dataset]
README = Path(__file__).parents[2] / "README.md"
DEFAULT = "http://127.0.0.1:8000"


def readme_commands() -> list[str]:
    """Each command of the first bash block under '## API', continuation lines joined."""
    section = README.read_text().split("## API", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "README has no bash block under '## API'"
    text = block.group(1).replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture
def gateway_url(tmp_path: Path, torchserve: TorchServeInstance) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        var_dir=tmp_path,
        public_base_url=url,
        model_inference_url=torchserve.inference_url,
        model_management_url=torchserve.management_url,
    )
    asyncio.run(prepare_database(settings.database_url))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.started, "uvicorn did not start"
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def run(command: str, cwd: Path) -> str:
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, (command, result.stderr)
    return result.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_curl_examples(gateway_url: str, tmp_path: Path) -> None:
    photo = DATASET / "images" / "030_03.jpg"
    if not photo.is_file():
        pytest.skip(f"London Face set not found at {DATASET}")
    shutil.copy(photo, tmp_path / "face.jpg")
    shutil.copy(DATASET / "images" / "030_08.jpg", tmp_path / "face-smiling.jpg")
    Image.open(photo).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(
        tmp_path / "face-mirrored.jpg"
    )
    shutil.copy(DATASET / "images" / "010_03.jpg", tmp_path / "someone-else.jpg")
    commands = [c.replace(DEFAULT, gateway_url) for c in readme_commands()]
    assert len(commands) >= 12
    consent = json.loads(run(commands[0], tmp_path))
    assert consent["version"] and set(consent["texts"]) == {"ko", "en"}
    created = json.loads(run(commands[1], tmp_path))
    assert created["type"]["slug"] and created["delete_token"], created
    assert created["photos"] == 1 and created["margin"] >= 0
    three = json.loads(run(commands[2], tmp_path))
    assert three["photos"] == 3, three
    different = json.loads(run(commands[3], tmp_path))
    assert (different["code"], different["photo"]) == ("different_people", 1), different
    as_json = json.loads(run(commands[4], tmp_path))
    assert as_json["mbti"] == "ENFP"
    ids = {"ANALYSIS_ID": created["id"], "DELETE_TOKEN": created["delete_token"]}
    outputs = []
    for command in commands[5:]:
        for name, value in ids.items():
            command = command.replace(name, value)
        outputs.append(run(command, tmp_path))
    owner, public, deleted, types, health, ready, metrics = outputs
    assert json.loads(owner)["view"] == "owner" and json.loads(owner)["mbti"] == "INTJ"
    assert json.loads(public)["view"] == "public" and "mbti" not in json.loads(public)
    assert deleted == ""
    assert httpx.get(f"{gateway_url}/v1/analyses/{created['id']}").status_code == 404
    assert [t["slug"] for t in json.loads(types)] == ["alpha", "beta", "gamma", "delta", "omega"]
    assert json.loads(health) == {"status": "ok"} and json.loads(ready)["status"] == "ready"
    assert "alphamale_analyses_total" in metrics


def section_commands(title: str) -> list[str]:
    """Each command of the first bash block under the README's section ``title``."""
    section = README.read_text().split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, f"README has no bash block under '## {title}'"
    text = block.group(1).replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_group_examples(gateway_url: str, tmp_path: Path) -> None:
    results = []
    for stem in ("030_03", "010_03"):
        photo = DATASET / "images" / f"{stem}.jpg"
        if not photo.is_file():
            pytest.skip(f"London Face set not found at {DATASET}")
        response = httpx.post(
            f"{gateway_url}/v1/analyses",
            data={"mbti": "INTJ", "birth_date": "1995-04-17", "consent": CONSENT},
            files={"image": ("face.jpg", photo.read_bytes(), "image/jpeg")},
            timeout=120,
        )
        assert response.status_code == 201, response.text
        results.append(response.json())
    ids = {
        "FRIEND_ID": results[1]["id"],
        "FRIEND_TOKEN": results[1]["delete_token"],
        "ANALYSIS_ID": results[0]["id"],
        "DELETE_TOKEN": results[0]["delete_token"],
    }
    outputs: list[str] = []
    for command in section_commands("Compare with friends"):
        command = command.replace(DEFAULT, gateway_url)
        for name, value in ids.items():
            command = command.replace(name, value)
        outputs.append(run(command, tmp_path))
        answer = json.loads(outputs[-1]) if outputs[-1] else {}
        if "code" in answer:  # started, then rotated: the group's current code
            ids["CODE"] = answer["code"]
        if answer.get("nickname") == "민수":
            ids["FRIEND_MEMBER"] = answer["member_id"]
    started, joined, listed, left, rotated, closed = outputs
    assert [m["nickname"] for m in json.loads(started)["members"]] == ["Sam"]
    assert json.loads(joined)["nickname"] == "민수"
    members = json.loads(listed)["members"]
    assert sorted(m["nickname"] for m in members) == ["Sam", "민수"]
    assert members[0]["score"] >= members[1]["score"]
    assert json.loads(rotated)["code"] != json.loads(started)["code"]
    assert (left, closed) == ("", "")
    old = httpx.get(f"{gateway_url}/v1/groups/{json.loads(started)['code']}")
    assert old.status_code == 404  # the rotated code is the only one
    final = httpx.get(f"{gateway_url}/v1/groups/{ids['CODE']}").json()
    assert final["closed"] and [m["nickname"] for m in final["members"]] == ["Sam"]
