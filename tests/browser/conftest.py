"""Browser tests: Playwright (sync API) drives the system's Chromium against a live gateway.

Fixtures:

- ``live_stack`` (session): the real gateway served by uvicorn in its own process on a free
  loopback port, on the session's real TorchServe, with a SQLite file and local storage in a
  temp dir (the embedded default of ``make run``), migrated and seeded with the five types and
  the demo catalog; per-client rate limit off, admission as default. ``live_stack.base_url``.
- ``browser`` (package): Chromium from ``$ALPHAMALE_CHROMIUM`` or ``chromium`` on PATH.
- ``phone`` / ``korean_phone`` / ``desktop``: a fresh page in a fresh context whose
  ``base_url`` is the live stack (``phone.goto("/")``). Console errors and uncaught exceptions
  fail the test at teardown unless allowed (``support.allow_errors``); a failed test leaves a
  screenshot at ``var/screenshots/failed-<test>.png``.
- ``photos`` (session) and ``face_photo`` / ``friend_photo`` / ``group_photo`` /
  ``landscape_photo`` / ``fake_jpeg``: files for ``page.set_input_files``.

The sync API marks its event loop as running in the main thread for as long as it lives, so no
asyncio code can run beside it: browser tests and their fixtures are sync, and ``browser`` is
package-scoped so that Playwright stops before the async tests of other packages run.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.soak import start_gateway, stop_gateway, wait_gateway_ready
from core.dataset import default_dataset_dir
from db import migrate
from db.session import sqlite_url
from gateway.cli.seed import SeedReport, seed
from gateway.config import Settings
from tests.browser.support import (
    NOT_AN_IMAGE,
    LiveStack,
    gateway_env,
    group_photo,
    landscape_photo,
    page_errors,
    shot,
    watch_errors,
)
from tests.fixtures.app import settings_for
from tests.fixtures.services import free_port, unavailable
from tests.fixtures.torchserve import TorchServeInstance

try:
    from playwright.sync_api import Browser, Page, expect
except ImportError:  # the `browser` fixture reports it
    Browser = Page = Any  # type: ignore[misc,assignment]
else:
    expect.set_options(timeout=20_000)  # an analysis on a busy 2-core machine takes seconds

BROWSER_DIR = Path(__file__).resolve().parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
FACE_STEM = "004_03"  # the e2e tests' default face
FRIEND_STEM = "010_03"  # another person the e2e tests analyse
READY_TIMEOUT_S = 120.0
CALL_FAILED = pytest.StashKey[bool]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is ``browser``; ``torchserve``/``dataset`` when its fixtures need them."""
    for item in items:
        if BROWSER_DIR not in Path(item.path).parents:
            continue
        item.add_marker(pytest.mark.browser)
        names = getattr(item, "fixturenames", ())  # every fixture the test needs, transitively
        if "live_stack" in names:
            item.add_marker(pytest.mark.torchserve)
        if "photos" in names:
            item.add_marker(pytest.mark.dataset)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


# --- The live stack ----------------------------------------------------------------------------


def run_in_thread(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run async setup on a thread of its own: this one may host Playwright's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def migrate_and_seed(settings: Settings) -> SeedReport:
    """What `make seed` does: migrations, the five types and the demo catalog."""
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    return await seed(settings, catalog=True)


@pytest.fixture(scope="session")
def live_stack(
    tmp_path_factory: pytest.TempPathFactory, torchserve: TorchServeInstance
) -> Iterator[LiveStack]:
    root = tmp_path_factory.mktemp("live_stack")
    log = root / "gateway.log"
    seeded = False
    for attempt in range(3):  # a free port can be taken before uvicorn binds it
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        settings = settings_for(
            root,
            sqlite_url(root),
            None,  # local storage under root/objects
            model_inference_url=torchserve.inference_url,
            model_management_url=torchserve.management_url,
            model_timeout_s=Settings.model_fields["model_timeout_s"].default,
            public_base_url=base_url,
            rate_limit_quota=0,
        )
        if not seeded:
            report = run_in_thread(migrate_and_seed(settings))
            assert report.catalog_added >= settings.catalog_per_result * 5, report
            seeded = True
        stack = LiveStack(base_url, settings, log)
        process = start_gateway(gateway_env(settings), port, log)
        try:
            wait_gateway_ready(base_url, process, log, READY_TIMEOUT_S)
        except SystemExit as error:  # bench.soak's way of saying it did not start
            stop_gateway(process)
            if "address already in use" in str(error).lower() and attempt < 2:
                continue
            pytest.fail(f"the live gateway did not start: {error}", pytrace=False)
        break
    try:
        yield stack
    finally:
        stop_gateway(process)


# --- Chromium and pages ------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable("Playwright", f"{exc} (pip install -r requirements/dev.txt)")
    executable = os.environ.get("ALPHAMALE_CHROMIUM") or shutil.which("chromium")
    if not executable or not Path(executable).is_file():
        unavailable(
            "Chromium",
            f"{executable or 'chromium'} not found (apt-get install chromium, "
            "or set ALPHAMALE_CHROMIUM to a Chromium binary)",
        )
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except Exception as exc:
        playwright.stop()
        pytest.fail(f"Chromium ({executable}) did not launch: {exc}", pytrace=False)
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


def open_page(
    request: pytest.FixtureRequest, browser: Browser, stack: LiveStack, **options: Any
) -> Iterator[Page]:
    context = browser.new_context(base_url=stack.base_url, **options)
    watch_errors(context)
    page = context.new_page()
    try:
        yield page
        if request.node.stash.get(CALL_FAILED, False) and not page.is_closed():
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
            shot(page, f"failed-{name}")
        unexpected = page_errors(page).unexpected()
    finally:
        context.close()
    if unexpected:
        pytest.fail(
            "the page logged errors:\n" + "\n".join(f"  {m}" for m in unexpected), pytrace=False
        )


@pytest.fixture
def phone(
    request: pytest.FixtureRequest, browser: Browser, live_stack: LiveStack
) -> Iterator[Page]:
    """A 390x844 touch phone at 2x, English (en-US)."""
    yield from open_page(request, browser, live_stack, **PHONE, locale="en-US")


@pytest.fixture
def korean_phone(
    request: pytest.FixtureRequest, browser: Browser, live_stack: LiveStack
) -> Iterator[Page]:
    """The same phone in Korean: navigator.language and Accept-Language are ko-KR."""
    yield from open_page(request, browser, live_stack, **PHONE, locale="ko-KR")


@pytest.fixture
def desktop(
    request: pytest.FixtureRequest, browser: Browser, live_stack: LiveStack
) -> Iterator[Page]:
    """A 1280x800 desktop window, English (en-US)."""
    yield from open_page(request, browser, live_stack, **DESKTOP, locale="en-US")


# --- Photos ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Photos:
    face: Path  # a London Face set photo: one face, analysed (201, 4 references)
    friend: Path  # another person's London photo, analysed too
    group: Path  # several small faces: 422 face_too_small, face_count > 1
    landscape: Path  # a generated landscape: 422 no_face
    not_image: Path  # a text file named photo.jpg


@pytest.fixture(scope="session")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Photos:
    images = default_dataset_dir() / "images"
    for stem in (FACE_STEM, FRIEND_STEM):
        if not (images / f"{stem}.jpg").is_file():
            unavailable(
                "London Face set", f"{images / stem}.jpg not found (set ALPHAMALE_DATASET_DIR)"
            )
    face = (images / f"{FACE_STEM}.jpg").read_bytes()
    folder = tmp_path_factory.mktemp("photos")
    files = {
        "face": ("face.jpg", face),
        "friend": ("friend.jpg", (images / f"{FRIEND_STEM}.jpg").read_bytes()),
        "group": ("group.jpg", group_photo(face)),
        "landscape": ("landscape.jpg", landscape_photo()),
        "not_image": ("photo.jpg", NOT_AN_IMAGE),
    }
    paths = {}
    for key, (name, data) in files.items():
        paths[key] = folder / name
        paths[key].write_bytes(data)
    return Photos(**paths)


@pytest.fixture
def face_photo(photos: Photos) -> Path:
    return photos.face


@pytest.fixture
def friend_photo(photos: Photos) -> Path:
    return photos.friend


@pytest.fixture(name="group_photo")
def group_photo_fixture(photos: Photos) -> Path:
    return photos.group


@pytest.fixture(name="landscape_photo")
def landscape_photo_fixture(photos: Photos) -> Path:
    return photos.landscape


@pytest.fixture
def fake_jpeg(photos: Photos) -> Path:
    return photos.not_image


@pytest.fixture(name="shot")
def shot_fixture() -> Any:
    """``shot(page, name)``: a full-page screenshot at var/screenshots/<name>.png."""
    return shot
