"""The organizer's jury pages: the rounds of every contest, and a new round."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from contest import create_app
from contest.audit.models import AuditEvent
from contest.auth.models import Role
from contest.contests.demo import build_demo_contest
from contest.contests.models import CategoryKind
from contest.extensions import db as db_ext
from contest.jury.models import Round, RoundKind
from tests.browser import live_server
from tests.jury_support import build_jury, new_round
from tests.support import PASSWORD, category, create_user, log_in, make_test_config, migrate

EN = {"Accept-Language": "en"}
ROUTES = ["/admin/jury/", "/admin/jury/contests/{contest}/rounds/new"]


def round_form(contest, **changes) -> dict:
    """A complete score round as an organizer types it (Vietnam time), one criterion."""
    form = {
        "name_vi": "Vòng sơ khảo",
        "name_en": "Preliminary round",
        "kind": "score",
        "categories": [str(category(contest, CategoryKind.photo).id)],
        "opens_at": "2025-08-01T08:00",
        "closes_at": "2025-08-15T17:00",
        "quorum": "3",
        "source_rule": "approved_entries",
        "source_round": "0",
        "source_threshold": "",
        "criteria-0-name_vi": "Nội dung",
        "criteria-0-name_en": "Content",
        "criteria-0-weight": "2",
        "criteria-0-scale_min": "0",
        "criteria-0-scale_max": "10",
        "criteria-0-scale_step": "0.5",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 302), ("entrant", 403), ("judge", 403), ("organizer", 200)]
)
def test_access_matrix(request, client, contest, route, role, expected):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    response = client.get(route.format(contest=contest.id), headers=EN)
    assert response.status_code == expected
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")


@pytest.mark.parametrize("role", ["anonymous", "entrant", "judge"])
def test_only_organizers_create_rounds(request, client, db, contest, role):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    response = client.post(f"/admin/jury/contests/{contest.id}/rounds/new", data=round_form(contest))
    assert response.status_code in (302, 403)
    assert db.scalar(select(Round.id)) is None


def test_unknown_contest_is_404(client, contest, organizer):
    log_in(client, organizer)
    assert client.get("/admin/jury/contests/987654/rounds/new", headers=EN).status_code == 404


def test_an_organizer_creates_a_score_round_and_sees_it_listed(client, db, contest, organizer):
    log_in(client, organizer)
    response = client.post(
        f"/admin/jury/contests/{contest.id}/rounds/new", data=round_form(contest), headers=EN
    )
    db.expire_all()
    created = db.scalar(select(Round))
    assert response.status_code == 302 and response.headers["Location"] == f"/admin/jury/rounds/{created.id}"

    assert (created.kind, created.quorum, created.name_en) == (RoundKind.score, 3, "Preliminary round")
    assert [(c.name_en, c.weight, c.max_steps) for c in created.criteria] == [("Content", 2, 20)]
    assert created.opens_at.hour == 1  # 08:00 in Vietnam
    assert db.scalar(select(AuditEvent.action).where(AuditEvent.subject_type == "round")) == "round.created"
    listing = client.get("/admin/jury/", headers=EN).text
    assert "Preliminary round" in listing and "Score on criteria" in listing


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"criteria-0-name_vi": "", "criteria-0-name_en": ""}, "A score round needs criteria"),
        ({"closes_at": "2025-07-01T08:00"}, "The round must close after it opens."),
        ({"criteria-0-scale_step": "0.3"}, "a scale made of whole steps"),
        ({"categories": []}, "Choose at least one category"),
        ({"source_rule": "top_n", "source_threshold": "10"}, "The previous round must be of this contest"),
    ],
)
def test_a_refused_round_says_why_and_creates_nothing(client, db, contest, organizer, changes, message):
    log_in(client, organizer)
    url = f"/admin/jury/contests/{contest.id}/rounds/new"
    response = client.post(url, data=round_form(contest, **changes), headers=EN)
    assert response.status_code == 400
    assert message in response.text
    assert db.scalar(select(Round.id)) is None


def test_a_final_round_from_the_previous_round(client, db, contest, organizer):
    first = new_round(db, build_jury(db, contest, judges=2, entries_each=1))
    db.commit()
    log_in(client, organizer, lang=None)
    url = f"/admin/jury/contests/{contest.id}/rounds/new"
    changes = {"name_en": "Final", "quorum": "", "source_rule": "top_n", "source_round": str(first.id)}
    refused = client.post(url, data=round_form(contest, **changes))
    assert refused.status_code == 400 and "Ngưỡng phải là số dương" in refused.text  # no N given
    assert client.post(url, data=round_form(contest, source_threshold="100", **changes)).status_code == 302
    db.expire_all()
    final = db.scalar(select(Round).where(Round.name_en == "Final"))
    assert (final.quorum, final.source_round_id, final.source_threshold) == (None, first.id, 100)


@pytest.mark.browser
def test_the_round_pages_on_a_phone(tmp_path, browser_page):
    """390 px wide in headless Chromium: nothing wider than the screen, no policy violation;
    a round created, opened, its entries listed, and a judge invited."""
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        contest, _ = build_demo_contest(db_ext.session)
        create_user(db_ext.session, "btc@example.com", role=Role.organizer, birth_year=None, locale="en")
        contest_id = contest.id
    page = browser_page.page
    try:
        with live_server(app) as url:
            page.goto(f"{url}/account/login", wait_until="load")
            page.fill("input[name=email]", "btc@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.locator("form [type=submit]").last.click()
            page.wait_for_load_state("load")
            page.goto(f"{url}/admin/jury/contests/{contest_id}/rounds/new", wait_until="load")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.fill("input[name=name_vi]", "Vòng chung khảo")
            page.fill("input[name=name_en]", "Final round")
            page.locator("input[name=categories]").first.check()
            page.fill("input[name=opens_at]", "2025-08-01T08:00")
            page.fill("input[name=closes_at]", "2025-08-15T17:00")
            page.select_option("select[name=kind]", "yes_no")
            page.get_by_role("button", name="Create the round").click()
            page.wait_for_load_state("load")
            assert re.fullmatch(rf"{url}/admin/jury/rounds/\d+", page.url)
            assert "Final round" in page.content()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.get_by_role("button", name="Open the round and deal its entries").click()
            page.wait_for_load_state("load")
            assert "The round is open and its entries are dealt." in page.content()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            for link in ("Entries, their judgements and disqualifications", "Back to the round"):
                page.get_by_role("link", name=link).click()
                page.wait_for_load_state("load")
                assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.get_by_role("link", name="Judges and conflicts").click()
            page.wait_for_load_state("load")
            page.fill("input[name=email]", "giam.khao.moi@example.com")
            page.fill("input[name=full_name]", "Giám khảo mới")
            page.get_by_role("button", name="Invite").click()
            page.wait_for_load_state("load")
            assert "An invitation was sent to giam.khao.moi@example.com" in page.content()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert browser_page.problems() == []
    finally:
        app.extensions["db"].dispose()
