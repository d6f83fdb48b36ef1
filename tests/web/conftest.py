"""Fixtures for web tests: the running servers as a browser sees them, and headless Chromium.

tests.web.browser_support is imported inside the fixtures: without Playwright it skips the
module importing it, which here would skip every web test, not only the browser ones."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def site(live):
    from tests.web.browser_support import Site

    return Site(live.servers.rasa_url, str(live.repo.engine.url), live.servers.api_token)


@pytest.fixture(scope="module")
def browser():
    from tests.web.browser_support import CHROMIUM, launch, sync_api

    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (apt-get install chromium; .ci/run installs it)")
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright.chromium)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser):
    """open_page(viewport=DESKTOP) -> a Watched page in a fresh browser context."""
    from tests.web.browser_support import DESKTOP, TIMEOUT_MS, Watched

    contexts = []

    def opener(viewport=DESKTOP, context=None) -> Watched:
        if context is None:
            context = browser.new_context(viewport=viewport)
            context.set_default_timeout(TIMEOUT_MS)
            contexts.append(context)
        return Watched(context.new_page())

    yield opener
    for context in contexts:
        context.close()
