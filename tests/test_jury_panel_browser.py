"""A judge scores a whole round by keyboard alone, in headless Chromium on a tablet-sized screen;
and the panel's pages fit a phone. Real HTTP server, migrated SQLite, stored JPEGs, CSRF on."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from contest import create_app
from contest.contests.demo import build_demo_contest
from contest.extensions import db as db_ext
from contest.jury.models import Assignment, RoundKind, Score
from contest.jury.rounds import open_round
from contest.storage import get_storage
from tests.browser import PHONE, live_server
from tests.jury_support import build_jury, new_round
from tests.support import PASSWORD, make_test_config, migrate
from tests.test_jury_panel import add_media

pytestmark = pytest.mark.browser
TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def site(tmp_path):
    """An open score round (0-10 by 0.5, and 1-5) of four entries with pictures; the judge who
    has all four, by e-mail; and the app."""
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'site.sqlite'}", WTF_CSRF_ENABLED=True)
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        session = db_ext.session
        contest, _ = build_demo_contest(session)
        jury = build_jury(session, contest, judges=2, entries_each=1)
        for entry in jury.entries:
            add_media(session, get_storage(), entry, uploaded_as="IMG_0001.JPG")
        round_ = new_round(session, jury, quorum=2)
        open_round(session, round_, actor_id=None)
        judge = jury.judges[1]  # the first judge has an entry of their own in the round
        judge.locale = "en"
        session.commit()
        yield app, round_.id, judge.id, judge.email
    app.extensions["db"].dispose()


def log_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/account/login", wait_until="load")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("load")


def judged(app, round_id: int, judge_id: int) -> dict[int, list[int]]:
    """Assignment id -> the steps of its scores in criterion order."""
    with app.app_context():
        session = db_ext.session
        ids = session.scalars(
            select(Assignment.id).where(Assignment.round_id == round_id, Assignment.judge_id == judge_id)
        ).all()
        return {
            a: list(
                session.scalars(
                    select(Score.steps).where(Score.assignment_id == a).order_by(Score.criterion_id)
                )
            )
            for a in ids
        }


def test_a_judge_scores_a_whole_round_by_keyboard(site, browser_page):
    app, round_id, judge_id, email = site
    page = browser_page.page
    page.set_viewport_size(TABLET)
    entry_url = re.compile(rf".*/jury/rounds/{round_id}/entries/\d+$")
    with live_server(app) as url:
        log_in(page, url, email)
        page.goto(f"{url}/jury/", wait_until="load")
        assert "0 of 4 judged" in page.content()
        page.locator("a", has_text="Judge the next entry").focus()
        with page.expect_navigation(url=entry_url):
            page.keyboard.press("Enter")
        seen = []
        for n in range(4):
            seen.append(page.url)
            page.wait_for_function("document.activeElement && 'criterion' in document.activeElement.dataset")
            if n % 2:
                page.keyboard.press("Shift+Digit8")  # 8.5
                page.keyboard.press("ArrowDown")
            else:
                page.keyboard.type("7")
                page.keyboard.press("Tab")
            page.keyboard.type("4")
            page.keyboard.press("Enter")
            page.wait_for_url(lambda now, before=page.url: now != before)
            page.wait_for_load_state("load")
        assert page.url == f"{url}/jury/rounds/{round_id}/"
        assert "You have judged every entry of this round." in page.content()
        assert "4 of 4 judged" in page.content()
        assert len(set(seen)) == 4
    scores = judged(app, round_id, judge_id)
    assert sorted(scores.values()) == [[14, 3], [14, 3], [17, 3], [17, 3]]  # 7 / 8.5 by 0.5, 4 from 1
    assert browser_page.problems() == []


def test_the_panel_fits_a_phone_and_keeps_what_was_typed(site, browser_page):
    """390 px wide, nothing wider than the screen; a value typed while the network is down is
    kept (sessionStorage), the judge told so, and saved when the connection returns."""
    app, round_id, judge_id, email = site
    page = browser_page.page
    page.set_viewport_size(PHONE)
    with live_server(app) as url:
        log_in(page, url, email)
        for path in ("/jury/", f"/jury/rounds/{round_id}/"):
            page.goto(url + path, wait_until="load")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        page.goto(f"{url}/jury/rounds/{round_id}/next", wait_until="load")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.context.set_offline(True)
        page.keyboard.type("6")
        page.wait_for_selector("[data-jury-message][data-kind=error]", timeout=10_000)
        assert "No connection" in page.inner_text("[data-jury-message]")
        kept = page.evaluate("Object.values(sessionStorage).join(' ')")
        assert '"6"' in kept and [12] not in judged(app, round_id, judge_id).values()
        page.context.set_offline(False)  # the script sends it again by itself
        page.wait_for_selector("[data-jury-message][data-kind=ok]", timeout=20_000)
        assert page.evaluate("sessionStorage.length") == 0
    assert [12] in judged(app, round_id, judge_id).values()
    assert browser_page.problems() == []


def test_a_judge_orders_a_ranking_by_keyboard(site, browser_page):
    """Focus an entry, U / D or Alt + arrows move it; the order is saved by itself."""
    app, _, judge_id, email = site
    with app.app_context():
        session = db_ext.session
        contest_jury = _jury_of(session, judge_id)
        ranking = new_round(session, contest_jury, RoundKind.ranking, name_en="Final", quorum=None)
        open_round(session, ranking, actor_id=None)
        session.commit()
        ranking_id = ranking.id
        first_order = _ranked(session, ranking_id, judge_id, by="id")
    page = browser_page.page
    page.set_viewport_size(TABLET)
    with live_server(app) as url:
        log_in(page, url, email)
        page.goto(f"{url}/jury/rounds/{ranking_id}/", wait_until="load")
        page.locator(".jury-rank-item").first.focus()
        page.keyboard.press("d")  # the first goes down one
        page.keyboard.press("ArrowDown")  # focus follows it; to the third
        page.keyboard.press("Alt+ArrowUp")  # the third goes up to the second place
        page.wait_for_selector("[data-jury-message][data-kind=ok]", timeout=10_000)
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
        page.set_viewport_size(PHONE)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        a, b, c, *rest = first_order
        with app.app_context():  # the last save may still be on its way
            page.wait_for_timeout(1500)
            assert _ranked(db_ext.session, ranking_id, judge_id, by="rank") == [b, c, a, *rest]
    assert browser_page.problems() == []


def _jury_of(session, judge_id: int):
    """The site's jury as tests.jury_support.new_round wants it (contest and organizer)."""
    from contest.auth.models import Role, User
    from contest.contests.models import Contest
    from tests.jury_support import Jury

    contest = session.scalar(select(Contest))
    organizer = session.scalar(select(User).where(User.role == Role.organizer))
    return Jury(contest, organizer, [session.get(User, judge_id)], [])


def _ranked(session, round_id: int, judge_id: int, by: str) -> list[int]:
    order = Assignment.id if by == "id" else Assignment.rank
    query = select(Assignment.id).where(Assignment.round_id == round_id, Assignment.judge_id == judge_id)
    return list(session.scalars(query.order_by(order)))
