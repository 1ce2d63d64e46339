"""Headless Chromium for the tests: Debian's ``/usr/bin/chromium`` driven by Playwright.

* ``chromium``: one browser per test session (Playwright cannot download its own here);
  missing, it skips the test, and fails it in CI (``CI=true``).
* ``browser_page``: a page 390 px wide (a phone) in a fresh context; it records console
  messages, page errors and Content-Security-Policy violations (``BrowserPage.problems``),
  and leaves a screenshot in the test's tmp dir when the test fails.
* ``live_server(app)``: the application on a loopback port, served by a real HTTP server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.support import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
# Injected by Playwright before any script of the page (policies do not apply to it).
_WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@contextmanager
def live_server(app) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def log_in_page(page, url: str, email: str, password: str) -> None:
    """Log in through the real login form of the app served at ``url``."""
    page.goto(f"{url}/account/login", wait_until="load")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("load")


@dataclass
class BrowserPage:
    """A Playwright page and what went wrong on it."""

    page: object
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations || []")

    def problems(self) -> list[str]:
        """CSP violations (reported or in the console) and uncaught script errors."""
        in_console = [text for text in self.console if "Content Security Policy" in text]
        return self.violations() + in_console + self.errors


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} missing: install Debian's chromium (make test does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


def watched_page(context) -> BrowserPage:
    """A new page of ``context`` whose console, script errors and policy violations are recorded."""
    context.add_init_script(_WATCH_VIOLATIONS)
    page = context.new_page()
    watched = BrowserPage(page)
    page.on("console", lambda message: watched.console.append(message.text))
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    return watched


@pytest.fixture
def browser_page(chromium, request, tmp_path) -> Iterator[BrowserPage]:
    context = chromium.new_context(viewport=PHONE, locale="en-US")
    watched = watched_page(context)
    page = watched.page
    yield watched
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        shot = tmp_path / "failure.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the page at the failure: {shot}")
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, for the screenshot above."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
