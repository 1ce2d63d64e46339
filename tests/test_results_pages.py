"""The organizer's tally pages: access, the settings (audited), the table, the raw-score file, 390 px."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from contest import create_app
from contest.audit.models import AuditEvent
from contest.extensions import db as db_ext
from contest.jury.models import RoundKind
from contest.results.models import AudienceMode, ResultsSettings, RoundTallySettings
from contest.results.rawfile import read_sheet
from contest.results.readout import round_sheet
from contest.results.sheet import RankingMethod
from contest.results.tally import tally
from tests.browser import live_server
from tests.results_support import judged_round
from tests.support import PASSWORD, log_in, make_test_config, migrate

EN = {"Accept-Language": "en"}
PAGES = ["/admin/results/", "/admin/results/rounds/{round}"]
ACTIONS = [
    "/admin/results/rounds/{round}/settings",
    "/admin/results/rounds/{round}/raw-scores",
    "/admin/results/contests/{contest}/audience",
]


@pytest.fixture
def judged(db, contest):
    return judged_round(db, contest)


def _as(request, client, role):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))


@pytest.mark.parametrize("route", PAGES)
@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 302), ("entrant", 403), ("judge", 403), ("organizer", 200)]
)
def test_access_matrix(request, client, contest, judged, route, role, expected):
    _as(request, client, role)
    response = client.get(route.format(round=judged[1].id, contest=contest.id), headers=EN)
    assert response.status_code == expected
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")


@pytest.mark.parametrize("route", ACTIONS)
@pytest.mark.parametrize(("role", "expected"), [("anonymous", 302), ("entrant", 403), ("judge", 403)])
def test_only_organizers_change_or_export(request, client, db, contest, judged, route, role, expected):
    _as(request, client, role)
    url = route.format(round=judged[1].id, contest=contest.id)
    response = client.post(url, data={"normalise": "y", "c1-mode": "share", "c1-percent": "30"})
    assert response.status_code == expected
    assert db.scalar(select(RoundTallySettings)) is None and db.scalar(select(ResultsSettings)) is None
    assert db.scalar(select(AuditEvent).where(AuditEvent.action.like("results.%"))) is None


def test_an_unknown_round_is_404(client, organizer):
    log_in(client, organizer)
    assert client.get("/admin/results/rounds/987654", headers=EN).status_code == 404


def test_the_tally_page_shows_every_entry_in_place_order(client, db, judged):
    jury, round_ = judged
    log_in(client, jury.organizer)
    html = client.get(f"/admin/results/rounds/{round_.id}", headers=EN).get_data(as_text=True)
    result = tally(round_sheet(db, round_.id)[0])
    codes = [row.entry for row in result.rows]
    found = re.findall(r'<th scope="row">([A-Z0-9-]+)</th>', html)
    assert found[: len(codes)] == codes
    assert "Raw" in html and "Normalised" not in html and "Download the raw-score file" in html
    assert f"{result.rows[0].figure:.3f}" in html
    assert "How reliable was the jury" in html  # the reliability section is included


def test_saving_the_settings_is_audited_and_changes_the_table(client, db, judged):
    jury, round_ = judged
    log_in(client, jury.organizer)
    form = {
        "normalise": "y",
        "ranking_method": "borda",
        "tie_1": "lowest_spread",
        "tie_2": "median",
        "tie_3": "",
    }
    response = client.post(f"/admin/results/rounds/{round_.id}/settings", data=form, headers=EN)
    assert response.status_code == 302
    saved = db.get(RoundTallySettings, round_.id)
    assert saved.normalise and not saved.trimmed and saved.tie_break == "lowest_spread,median,code"
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "results.tally_settings.changed"))
    assert event.actor_id == jury.organizer.id and event.subject_id == round_.id
    assert event.details["old"]["normalise"] is False and event.details["new"]["tie_break"] == saved.tie_break
    html = client.get(f"/admin/results/rounds/{round_.id}", headers=EN).get_data(as_text=True)
    assert "Normalised" in html
    client.post(f"/admin/results/rounds/{round_.id}/settings", data=form, headers=EN)  # unchanged
    assert len(db.scalars(select(AuditEvent).where(AuditEvent.action.like("results.tally%"))).all()) == 1


def test_a_repeated_tie_rule_is_refused_with_a_message(client, db, judged):
    jury, round_ = judged
    log_in(client, jury.organizer)
    form = {"ranking_method": "borda", "tie_1": "median", "tie_2": "median", "tie_3": ""}
    response = client.post(f"/admin/results/rounds/{round_.id}/settings", data=form, headers=EN)
    assert response.status_code == 400
    assert "Each tie rule can be chosen once." in response.get_data(as_text=True)
    form["tie_1"] = "oldest"
    assert (
        client.post(f"/admin/results/rounds/{round_.id}/settings", data=form, headers=EN).status_code == 400
    )
    assert db.get(RoundTallySettings, round_.id) is None


def test_the_raw_score_download_is_the_round_and_an_audit_event(client, db, judged):
    jury, round_ = judged
    log_in(client, jury.organizer)
    response = client.post(f"/admin/results/rounds/{round_.id}/raw-scores", headers=EN)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    assert f"round-{round_.id}-raw-scores.csv" in response.headers["Content-Disposition"]
    sheet = read_sheet(io.StringIO(response.data.decode("utf-8"), newline=""))
    assert sheet == round_sheet(db, round_.id)[0]
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "results.raw_scores.exported"))
    assert event.actor_id == jury.organizer.id and event.details["marks"] == len(sheet.marks)


def test_a_schulze_round_shows_its_matrix(client, db, contest):
    jury, round_ = judged_round(db, contest, RoundKind.ranking)
    db.add(RoundTallySettings(round_id=round_.id, ranking_method=RankingMethod.schulze, tie_break="code"))
    db.commit()
    log_in(client, jury.organizer)
    html = client.get(f"/admin/results/rounds/{round_.id}", headers=EN).get_data(as_text=True)
    assert "Schulze: pairwise preferences" in html
    result = tally(round_sheet(db, round_.id)[0])
    a, b = result.rows[0].entry, result.rows[1].entry
    assert f"{result.pairwise[a][b]} ({result.strongest[a][b]})" in html


def test_the_audience_share_is_saved_audited_and_shown_in_the_final_figures(client, db, contest, judged):
    jury, round_ = judged
    log_in(client, jury.organizer)
    response = client.post(
        f"/admin/results/contests/{contest.id}/audience",
        data={f"c{contest.id}-mode": "share", f"c{contest.id}-percent": "20"},
    )
    assert response.status_code == 302
    chosen = db.get(ResultsSettings, contest.id)
    assert chosen.audience_mode is AudienceMode.share and chosen.audience_share == pytest.approx(0.2)
    assert (
        db.scalar(select(AuditEvent).where(AuditEvent.action == "results.audience_share.changed")) is not None
    )
    html = client.get(f"/admin/results/rounds/{round_.id}", headers=EN).get_data(as_text=True)
    assert "Final figure" in html and "0.80 × " in html
    refused = client.post(
        f"/admin/results/contests/{contest.id}/audience",
        data={f"c{contest.id}-mode": "share", f"c{contest.id}-percent": "80"},
        headers=EN,
        follow_redirects=True,
    )
    assert "Choose a share from 1 to 50 per cent." in refused.get_data(as_text=True)
    assert db.get(ResultsSettings, contest.id).audience_share == pytest.approx(0.2)


@pytest.mark.browser
def test_the_tally_pages_on_a_phone(tmp_path, browser_page):
    """390 px wide in headless Chromium: the table scrolls in its own box, no policy violation."""
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        from contest.contests.demo import build_demo_contest

        contest, _ = build_demo_contest(db_ext.session)
        jury, round_ = judged_round(db_ext.session, contest)
        email, round_id = jury.organizer.email, round_.id
    page = browser_page.page
    try:
        with live_server(app) as url:
            page.goto(f"{url}/account/login", wait_until="load")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", PASSWORD)
            page.locator("form [type=submit]").last.click()
            page.wait_for_load_state("load")
            for path in ("/admin/results/", f"/admin/results/rounds/{round_id}"):
                page.goto(f"{url}{path}", wait_until="load")
                assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.locator("input[name=normalise]").check()
            page.locator("form.tally-settings [type=submit]").click()
            page.wait_for_load_state("load")
            assert page.locator("table.tally tbody tr").count() > 0
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            box = page.locator("table.tally").evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
            assert box[1] <= 390
        assert browser_page.problems() == []
    finally:
        app.extensions["db"].dispose()


def test_the_tally_page_speaks_vietnamese(client, db, judged):
    jury, round_ = judged
    log_in(client, jury.organizer, lang="vi")
    html = client.get(f"/admin/results/rounds/{round_.id}").get_data(as_text=True)
    assert "Cách tính điểm của vòng" in html and "Tải tệp điểm gốc (CSV)" in html
    assert "Phân định bằng điểm theo" in html


@pytest.mark.parametrize("kind", [RoundKind.yes_no, RoundKind.ranking])
def test_yes_no_and_ranking_rounds_have_their_own_columns(client, db, contest, kind):
    jury, round_ = judged_round(db, contest, kind)
    log_in(client, jury.organizer)
    html = client.get(f"/admin/results/rounds/{round_.id}", headers=EN).get_data(as_text=True)
    assert ("Yes share" in html) is (kind is RoundKind.yes_no)
    assert ("Borda count" in html) is (kind is RoundKind.ranking)
    assert "Raw</th>" not in html


def test_a_round_without_judgements_has_an_empty_tally(client, db, contest):
    from tests.jury_support import build_jury, new_round

    jury = build_jury(db, contest, judges=3, entries_each=1)
    draft = new_round(db, jury, RoundKind.score)
    db.commit()
    log_in(client, jury.organizer)
    response = client.get(f"/admin/results/rounds/{draft.id}", headers=EN)
    assert response.status_code == 200
    assert "0 entries" in response.get_data(as_text=True)
    assert client.get(f"/admin/results/rounds/{draft.id}?page=x", headers=EN).status_code == 200


def test_schulze_is_for_shortlists_only(client, db, contest, monkeypatch):
    from contest.results import tally_page, views

    jury, round_ = judged_round(db, contest, RoundKind.ranking)
    monkeypatch.setattr(views, "MAX_ENTRIES", 3)
    monkeypatch.setattr(tally_page, "MAX_ENTRIES", 3)
    log_in(client, jury.organizer)
    form = {"ranking_method": "schulze", "tie_1": "median", "tie_2": "", "tie_3": ""}
    response = client.post(f"/admin/results/rounds/{round_.id}/settings", data=form, headers=EN)
    assert response.status_code == 400
    assert "The Schulze method takes at most 3 entries" in response.get_data(as_text=True)
    assert db.get(RoundTallySettings, round_.id) is None
    db.add(RoundTallySettings(round_id=round_.id, ranking_method=RankingMethod.schulze, tie_break="code"))
    db.commit()  # chosen before the round took its entries
    html = client.get(f"/admin/results/rounds/{round_.id}", headers=EN).get_data(as_text=True)
    assert "too many entries for the Schulze method" in html and "schulze-matrix" not in html
