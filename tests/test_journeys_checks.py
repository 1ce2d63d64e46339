"""The journeys' page checks can fail (tests/journeys_support.py): each defect they look for,
put into a real page, is reported."""

from __future__ import annotations

import pytest

from contest import create_app
from contest.contests.services import seed_demo
from contest.extensions import db
from tests.browser import live_server, watched_page
from tests.journeys_support import FAILURES, LOCALES, SIZES, Journey
from tests.support import make_test_config, migrate

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def rules_site(tmp_path_factory):
    """The demo contest (its rules page) served on loopback; its base URL."""
    folder = tmp_path_factory.mktemp("journey-checks")
    config = make_test_config(folder, f"sqlite:///{folder / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        seed_demo(db.session)
        db.session.commit()
    with live_server(app) as url:
        yield url
    app.extensions["db"].dispose()


def test_the_checks_see_a_defect(rules_site, chromium):
    """Each check of a page can fail: a page made wider than the screen, a picture with no text
    for a screen reader, a script error."""
    url = rules_site
    context = chromium.new_context(viewport=SIZES["phone"], locale=LOCALES["en"])
    journey = Journey(watched_page(context), url, "defects", "phone", "en")
    try:
        journey.go("/rules", "rules")
        add = "html => document.querySelector('main').insertAdjacentHTML('beforeend', html)"
        journey.page.evaluate(add, "<div id='wide'>wide</div>")
        journey.page.evaluate("document.getElementById('wide').style.width = '600px'")
        with pytest.raises(AssertionError, match="wider than the screen"):
            journey.check("too wide")
        journey.page.evaluate("document.getElementById('wide').remove()")
        journey.page.evaluate(add, "<img src='/static/favicon.svg'>")
        with pytest.raises(AssertionError, match="image-alt"):
            journey.check("no alt")
        journey.page.evaluate("document.querySelector('main img').alt = ''")
        with journey.page.expect_event("pageerror"):
            journey.page.evaluate("setTimeout(() => { throw new Error('broken'); })")
        with pytest.raises(AssertionError, match="broken"):
            journey.check("script error")
    finally:
        context.close()


def test_a_console_error_fails_the_page_but_a_page_meant_to_fail_does_not(rules_site, chromium):
    """An error written to the console is reported; the 404 of a page opened for its 404 (which
    the browser logs as an error too) is not."""
    context = chromium.new_context(viewport=SIZES["phone"], locale=LOCALES["en"])
    journey = Journey(watched_page(context), rules_site, "console", "phone", "en")
    try:
        journey.go("/rules", "rules", axe=False)
        journey.page.evaluate("console.error('lost the thread')")
        with pytest.raises(AssertionError, match=r"errors in the console: .*lost the thread"):
            journey.check("console error", axe=False)
        journey.go("/e/NOPE-0000", "no such entry", status=404, axe=False)
        with journey.page.expect_console_message(lambda message: message.type == "error"):
            journey.page.evaluate("fetch('/static/none.css')")
        with pytest.raises(AssertionError, match=r"errors in the console: .*404"):
            journey.check("a missing file", axe=False)
    finally:
        context.close()


def test_a_failing_journey_keeps_its_page(rules_site, chromium):
    """The page a journey failed on, whole, under .artifacts/journey-failures/, named by the
    journey and its last step."""
    context = chromium.new_context(viewport=SIZES["phone"], locale=LOCALES["en"])
    journey = Journey(watched_page(context), rules_site, "kept", "phone", "en")
    try:
        journey.go("/rules", "the rules", axe=False)
        kept = journey.keep_failure()
    finally:
        context.close()
    assert kept == FAILURES / "kept-phone-en-after-the-rules.png"
    assert kept.read_bytes().startswith(b"\x89PNG") and kept.stat().st_size > 1000
