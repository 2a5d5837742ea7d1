"""A real browser for the dashboard's end-to-end tests: Playwright driving Debian's chromium.

Never `playwright install`: the browser is the system's (`.ci/run` installs it with apt-get).
Without it the tests skip locally, with the reason, and fail in CI (CI=true).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"



def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Browser tests must run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Per module: Playwright's sync API keeps an event loop running in this thread while it
    is open, which would break every later test that runs a loop of its own (asyncio.run)."""
    if not os.path.exists(CHROMIUM):
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium; .ci/run does).")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (requirements/test.txt).")
    # Meanwhile the ORM calls the tests make between browser steps are still plain
    # synchronous ones, though Django sees that loop.
    unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if unsafe is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = unsafe


@pytest.fixture
def signed_in_page(
    chromium: Any, live_server: Any, admin_user: Any, client: Any, settings: Any
) -> Iterator[Any]:
    """A page whose browser holds the session of a superuser (admin_user)."""
    settings.ASYNC_ACTIONS = {"DASHBOARD_POLL_INTERVAL": 0.3}  # the live server's polling
    client.force_login(admin_user)
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()
