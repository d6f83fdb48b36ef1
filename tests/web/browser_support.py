"""Browser-test support: headless Chromium through Playwright against the real servers
(the `site`, `browser` and `open_page` fixtures of tests/web/conftest.py), agents made with
`python -m web agents`, console-error collection, axe-core checks and screenshots."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Sequence

import pytest

from heard.paths import ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 20_000

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="playwright is not installed (it is in the test extras: make install)",
)
expect = sync_api.expect
expect.set_options(timeout=TIMEOUT_MS)


# The console asks GET /console/api/me on load; signed out, that answers 401, which
# Chromium reports as a failed resource. Expected, so not counted as an error.
SIGNED_OUT_PROBE = re.compile(r"status of 401 .* at .*/console/api/me$")


@dataclass
class Watched:
    """A page plus everything it complained about in its console."""

    page: "sync_api.Page"
    errors: List[str] = field(default_factory=list)

    def __post_init__(self):
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def _console(self, message):
        text = f"{message.text} at {message.location.get('url', '')}"
        if message.type == "error" and not SIGNED_OUT_PROBE.search(text):
            self.errors.append(text)


@dataclass
class Site:
    """The running servers as a browser sees them."""

    url: str
    database: str
    api_token: str  # for Rasa's HTTP API (trackers), which browsers never get

    def api(self, path: str) -> str:
        return f"{self.url}{path}?token={self.api_token}"

    def add_agent(self, name: str) -> tuple:
        """A new agent through the agents command line; returns (username, password)."""
        username = f"{name.lower()}-{uuid.uuid4().hex[:6]}"
        password = f"pw-{uuid.uuid4().hex}"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "web",
                "agents",
                "add",
                username,
                "--name",
                name,
                "--password-stdin",
            ],
            input=password + "\n",
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": self.database},
            capture_output=True,
        )
        return username, password


def launch(browser_type, extra_args: Sequence[str] = ()):
    """Headless Debian Chromium; its microphone is synthetic (a beep, or a file given in
    extra_args) and needs no prompt."""
    # This machine has no network beyond loopback: no background fetches. Every test site
    # is on loopback, so a page of one origin embedding the widget from another would ask
    # for Chromium's local-network permission, which a public shop never needs.
    return browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            "--autoplay-policy=no-user-gesture-required",
            "--disable-features=LocalNetworkAccessChecks",
            *extra_args,
        ],
    )


def screenshot(page, name: str, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def serious_accessibility_violations(page) -> List[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not AXE.exists():
        if shutil.which("npm") is None:
            pytest.skip("axe-core is missing and npm is not installed to fetch it")
        subprocess.run(
            ["npm", "ci", "--prefix", str(ROOT / "web"), "--no-audit", "--no-fund"],
            check=True,
            capture_output=True,
        )
    # Evaluated through the DevTools protocol: a script tag would be refused by the
    # console's Content-Security-Policy, as it should be.
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def sign_in(page, url: str, username: str, password: str):
    page.goto(f"{url}/console/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("tab", name="Queue")).to_have_attribute("aria-selected", "true")


class Widget:
    """The chat widget on a page, driven as a customer would."""

    def __init__(self, page):
        self.page = page
        self.log = page.get_by_role("log")

    def open(self):
        self.page.get_by_role("button", name="Chat with Heard").click()
        expect(self.page.get_by_role("textbox", name="Type your message")).to_be_focused()
        return self

    def say(self, text: str):
        box = self.page.get_by_role("textbox", name="Type your message")
        box.fill(text)
        box.press("Enter")

    def heard_messages(self) -> List[str]:
        return self.log.locator(".heard-from-heard .heard-text").all_inner_texts()

    def wait_for_heard(self, contains: str):
        expect(self.log.locator(".heard-from-heard", has_text=contains).last).to_be_visible()

    def heard_count(self) -> int:
        return self.log.locator(".heard-from-heard").count()

    def wait_for_more_heard(self, than: int):
        expect(self.log.locator(".heard-from-heard").nth(than)).to_be_visible()
