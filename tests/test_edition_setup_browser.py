"""The edition set-up pages in headless Chromium at 390 px: an organizer creates next year's
edition as a copy of this year's through the form, and every set-up page fits the phone's screen
without a script error or a policy violation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contest import create_app
from contest.auth.models import Role
from contest.contests.demo import build_demo_contest
from contest.contests.models import Contest
from contest.extensions import db
from tests.browser import live_server
from tests.support import PASSWORD, create_user, make_test_config, migrate

pytestmark = pytest.mark.browser
ORGANIZER = "bo@example.com"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("edition-setup-site")
    config = make_test_config(folder, f"sqlite:///{folder / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        contest, _ = build_demo_contest(db.session)
        db.session.commit()
        ids = {"contest": contest.id, "category": contest.categories[0].id, "place": contest.places[0].id}
        create_user(db.session, ORGANIZER, role=Role.organizer)
    with live_server(app) as url:
        yield app, url, ids
    app.extensions["db"].dispose()


def log_in(page, url: str) -> None:
    page.goto(f"{url}/account/login", wait_until="load")
    page.fill("input[name=email]", ORGANIZER)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("load")


def test_next_edition_copied_through_the_form(site, browser_page):
    app, url, ids = site
    page = browser_page.page
    log_in(page, url)
    page.goto(f"{url}/admin/contests/new", wait_until="load")
    assert page.locator("#source").input_value() == str(ids["contest"])  # the last edition by default
    page.fill("#slug", "happy-nghean-2026")
    page.fill("#code_prefix", "hna26")
    page.fill("#title_vi", "Nghệ An Hạnh phúc 2026")
    page.fill("#title_en", "Happy Nghe An 2026")
    for field, value in {
        "submission_opens_at": "2026-06-01T00:00",
        "submission_closes_at": "2026-10-01T23:59",
        "voting_opens_at": "2026-09-01T08:00",
        "voting_closes_at": "2026-10-15T20:00",
    }.items():
        page.fill(f"#{field}", value)
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("load")

    assert "/admin/contests/" in page.url and page.url.endswith("/edit")
    assert "Nghệ An Hạnh phúc 2026" in page.locator("h1").inner_text()  # the user's language: Vietnamese
    with app.app_context():
        copy = db.session.scalar(select(Contest).where(Contest.slug == "happy-nghean-2026"))
        assert [c.slug for c in copy.categories] == ["photo", "photo-series", "video"]
        assert not copy.is_published
    assert browser_page.problems() == []


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_setup_pages_fit_a_phone(site, browser_page, lang):
    _app, url, ids = site
    page = browser_page.page
    log_in(page, url)
    page.goto(f"{url}/language/{lang}", wait_until="load")
    routes = [
        "/admin/",
        "/admin/contests/new",
        "/admin/contests/{contest}/edit",
        "/admin/categories/{category}/edit",
        "/admin/contests/{contest}/places",
        "/admin/places/{place}/edit",
        "/admin/contests/{contest}/images",
        "/admin/accounts/",
    ]
    for route in routes:
        page.goto(url + route.format(**ids), wait_until="load")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), route
        assert page.locator("html").get_attribute("lang") == lang, route
    assert browser_page.problems() == []
