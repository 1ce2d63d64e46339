"""The jury's reliability on a round's tally page, on a phone (390 px) in headless Chromium."""

from __future__ import annotations

import pytest

from contest import create_app
from contest.auth.models import Role
from contest.contests.demo import build_demo_contest
from contest.extensions import db as db_ext
from contest.jury.models import RoundKind
from contest.jury.rounds import open_round
from contest.jury.scores import Judgement, save_judgement
from tests.browser import live_server
from tests.jury_support import assignments, build_jury, new_round
from tests.support import PASSWORD, create_user, make_test_config, migrate


def scored_round(session) -> int:
    """Six judges score every entry (full panel); the last scores the reverse of the others."""
    contest, _ = build_demo_contest(session)
    jury = build_jury(session, contest, judges=6, entries_each=4)
    round_ = new_round(session, jury, RoundKind.score, quorum=None)
    open_round(session, round_, actor_id=jury.organizer.id, seed=3)
    quality = {entry.id: n % 10 for n, entry in enumerate(jury.entries)}
    reverse = jury.judges[-1].id
    for a in assignments(session, round_):
        grade = 10 - quality[a.entry_id] if a.judge_id == reverse else quality[a.entry_id]
        values = {c.id: min(c.scale_max, max(c.scale_min, grade * c.scale_max / 10)) for c in round_.criteria}
        save_judgement(session, a.id, a.judge_id, Judgement(values={k: round(v) for k, v in values.items()}))
    create_user(session, "btc@example.com", role=Role.organizer, birth_year=None, locale="en")
    session.commit()
    return round_.id


@pytest.mark.browser
def test_the_reliability_section_on_a_phone(tmp_path, browser_page):
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        round_id = scored_round(db_ext.session)
    page = browser_page.page
    try:
        with live_server(app) as url:
            page.goto(f"{url}/account/login", wait_until="load")
            page.fill("input[name=email]", "btc@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.locator("form [type=submit]").last.click()
            page.wait_for_load_state("load")
            page.goto(f"{url}/admin/results/rounds/{round_id}", wait_until="load")
            section = page.locator("#reliability")
            assert "How reliable was the jury" in section.inner_text()
            assert "Intra-class correlation" in section.inner_text()
            assert section.locator(".agreement-band").count() == 1
            assert section.locator("table.reliability-judges tbody tr").count() == 6
            assert section.locator("tr.apart").count() == 1
            assert section.locator("table.reliability-stability tbody tr").count() == 10
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            for box in section.locator(".table-scroll").all():
                assert box.evaluate("b => b.getBoundingClientRect().right") <= 390
        assert browser_page.problems() == []
    finally:
        app.extensions["db"].dispose()
