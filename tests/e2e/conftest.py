"""The browser the journeys drive: Debian's Chromium through Playwright, a desktop window."""

import pytest

from tests.e2e.app_server import CHROMIUM, CHROMIUM_FLAGS, DESKTOP, STEP_MS


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport=DESKTOP)
        context.set_default_timeout(STEP_MS)
        yield context.new_page()
        browser.close()
