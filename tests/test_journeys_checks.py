"""The journeys' page checks can fail (tests/journeys_support.py): each defect they look for,
put into a real page, is reported."""

from __future__ import annotations

import pytest

from contest import create_app
from contest.contests.services import seed_demo
from contest.extensions import db
from tests.browser import live_server, watched_page
from tests.journeys_support import LOCALES, SIZES, Journey
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
        journey.page.evaluate(add, "<img src='/static/none.png'>")
        with pytest.raises(AssertionError, match="image-alt"):
            journey.check("no alt")
        journey.page.evaluate("document.querySelector('main img').alt = ''")
        journey.page.evaluate("setTimeout(() => { throw new Error('broken'); })")
        journey.page.wait_for_timeout(100)
        with pytest.raises(AssertionError, match="broken"):
            journey.check("script error")
    finally:
        context.close()
