"""Issue 17's vote box and form errors in headless Chromium at 390 px: a vote by keyboard
keeps the focus in the box and says what the page loaded again says; a form that comes back
with errors focuses its first invalid field, which names its error."""

from __future__ import annotations

import pytest

from contest import create_app
from contest.contests.demo import build_demo_contest
from contest.extensions import db
from tests.browser import live_server
from tests.support import PASSWORD, create_user, make_entry, make_test_config, migrate

pytestmark = pytest.mark.browser
VOTER = "voter@example.com"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The served app's base URL and, per language, the code of an entry open to votes (one
    vote per entry and day)."""
    folder = tmp_path_factory.mktemp("small-things-site")
    config = make_test_config(folder, f"sqlite:///{folder / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        contest, _ = build_demo_contest(db.session)
        author = create_user(db.session, "author@example.com")
        create_user(db.session, VOTER)
        codes = {lang: make_entry(db.session, contest, author, title="Hoa sen").code for lang in ("en", "vi")}
    with live_server(app) as url:
        yield url, codes
    app.extensions["db"].dispose()


def log_in(page, url: str) -> None:
    page.goto(f"{url}/account/login", wait_until="load")
    page.fill("input[name=email]", VOTER)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("load")


def no_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def small_targets(page) -> list[str]:
    """The vote box's links and buttons under 44 px high."""
    return page.evaluate(
        "[...document.querySelectorAll('.vote-box a, .vote-box button')]"
        ".filter(e => e.getBoundingClientRect().height < 44).map(e => e.textContent.trim())"
    )


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_a_vote_by_keyboard_keeps_focus_and_a_reload_says_the_same(site, browser_page, lang):
    url, codes = site
    page = browser_page.page
    log_in(page, url)
    page.goto(f"{url}/language/{lang}?next=/", wait_until="load")
    page.goto(f"{url}/e/{codes[lang]}", wait_until="load")
    assert small_targets(page) == []
    page.focus(".vote-button")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-vote-message]:not(:empty)")

    focused = page.evaluate("document.activeElement.matches('[data-vote-message]')")
    said = page.inner_text("[data-vote-state]")
    message = page.inner_text("[data-vote-message]")
    assert focused, "focus left the vote box"
    assert page.get_attribute("[data-vote-message]", "role") == "status"
    assert {"en": "again tomorrow", "vi": "vào ngày mai"}[lang] in said
    assert {"en": "your vote is counted", "vi": "bình chọn"}[lang] in message
    assert page.inner_text("[data-vote-count]") == "1"
    assert page.inner_text(".vote-count") == {"en": "1 vote", "vi": "1 lượt bình chọn"}[lang]
    assert no_overflow(page) and small_targets(page) == []

    page.reload(wait_until="load")
    assert page.inner_text("[data-vote-state]") == said
    assert page.inner_text(".vote-count") == {"en": "1 vote", "vi": "1 lượt bình chọn"}[lang]
    assert browser_page.problems() == []


def test_a_form_with_errors_focuses_its_first_invalid_field(site, browser_page):
    url, _codes = site
    page = browser_page.page
    page.goto(f"{url}/account/register", wait_until="load")
    page.fill("input[name=email]", "new@example.com")
    page.fill("input[name=password]", "a long enough password 1")
    page.fill("input[name=password_confirm]", "a long enough password 1")
    page.eval_on_selector("form:has(input[name=full_name])", "form => { form.noValidate = true; }")
    page.locator("form:has(input[name=full_name]) [type=submit]").click()
    page.wait_for_load_state("load")

    active = page.evaluate("document.activeElement.name")
    assert active == "full_name"
    field = page.locator("input[name=full_name]")
    assert field.get_attribute("aria-invalid") == "true"
    described = field.get_attribute("aria-describedby").split()
    error_ids = [i for i in described if "-error-" in i]
    assert error_ids and page.inner_text(f"#{error_ids[0]}") == "Please enter your full name."
    summary = page.locator("[data-error-summary]")
    assert summary.is_visible() and summary.locator("a[href='#full_name']").count() == 1
    page.locator("[data-error-summary] a[href='#birth_year']").click()
    assert page.evaluate("document.activeElement.name") == "birth_year"
    assert no_overflow(page)
    assert browser_page.problems() == []
