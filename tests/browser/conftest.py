"""Browser tests: `rentbook serve` (embedded default, demo data, a temporary store) on a
free port, driven by Playwright through Debian's Chromium (/usr/bin/chromium, installed by
scripts/setup.sh). Each test leaves a screenshot of its last page in tests/browser/output/;
a failing one also leaves the page's HTML and the browser console."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.served import Served, serve

CHROMIUM = os.environ.get("RENTBOOK_CHROMIUM", "/usr/bin/chromium")
OUTPUT = Path(__file__).parent / "output"
TIMEOUT_MS = 15_000


# Package scope: both end after the last journey, not with the session. While Playwright's
# sync API is open, asyncio.run() fails in this thread for every later test of the worker.
@pytest.fixture(scope="package")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    # The renter journeys pick a city from the suggestions: the index builds at start-up.
    store = tmp_path_factory.mktemp("web-store")
    with _serve(store, demo_listings=6, places_preload=True) as server:
        yield server


@pytest.fixture(scope="package")
def clocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A second server, for the journeys that move its clock past a stay (the disputes):
    moving the shared one's clock would age the other journeys' data. One for all of them
    (each server start costs ~8 s of CPU): each books from the server's own date
    (`api_client.lived_through`)."""
    with _serve(tmp_path_factory.mktemp("clocked-store"), demo_listings=4) as server:
        yield server


@contextmanager
def _serve(data: Path, demo_listings: int, places_preload: bool = False) -> Iterator[Served]:
    env = {
        "RENTBOOK_DATA_DIR": str(data),
        "RENTBOOK_LOG_FORMAT": "console",
        "RENTBOOK_ENVIRONMENT": "development",
        "RENTBOOK_PLACES_PRELOAD": "1" if places_preload else "0",
    }
    with serve(["--demo-listings", str(demo_listings)], env, data / "serve.log") as server:
        yield server


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `bash scripts/setup.sh dev`"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[FAILED] = report.failed


FAILED = pytest.StashKey[bool]()


def _new_page(browser: Browser, width: int) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    return page, console


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no cookies) at desktop width."""
    new, console = _new_page(browser, 1280)
    yield new
    _keep(new, console, request)
    new.context.close()


@pytest.fixture
def phone(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context 360 px wide."""
    new, console = _new_page(browser, 360)
    yield new
    _keep(new, console, request)
    new.context.close()


def _keep(page: Page, console: list[str], request: pytest.FixtureRequest) -> None:
    OUTPUT.mkdir(exist_ok=True)
    name = request.node.name.replace("/", "_")[:120]
    try:
        page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)
        if request.node.stash.get(FAILED, False):
            (OUTPUT / f"{name}.html").write_text(page.content())
            (OUTPUT / f"{name}.console.log").write_text("\n".join(console))
    except Exception as error:  # a closed page must not hide the test's own failure
        (OUTPUT / f"{name}.error.txt").write_text(repr(error))
