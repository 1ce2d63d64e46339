"""The audit log page: filters (who, what, when in Vietnam days, which record), the CSV file, access."""

from __future__ import annotations

import csv
import io
import re

import pytest

from contest import create_app
from contest.audit.services import record
from contest.auth.models import Role
from contest.contests.demo import build_demo_contest
from contest.extensions import db as db_ext
from contest.voting.models import Vote
from tests.browser import live_server
from tests.support import (
    PASSWORD,
    create_user,
    log_in,
    make_entry,
    make_test_config,
    migrate,
    vn,
)

EN = {"Accept-Language": "en"}


def event(db, actor, action, subject_type, subject_id, when, *, contest=None, reason="", details=None):
    made = record(
        db,
        actor_id=actor.id if actor else None,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        contest_id=contest.id if contest else None,
        reason=reason,
        details=details,
    )
    made.created_at = when
    db.commit()
    return made


@pytest.fixture
def logbook(db, contest, organizer):
    """Six events by two organizers and the system, over three Vietnam days around midnight."""
    other = create_user(
        db, "btc2@example.com", role=Role.organizer, birth_year=None, full_name="Trần Thị Bình"
    )
    author = create_user(db, "tacgia@example.com")
    first, second = make_entry(db, contest, author), make_entry(db, contest, author)
    ballot = Vote(contest_id=contest.id, entry_id=second.id, voter_id=author.id, day=vn(2025, 6, 2).date())
    db.add(ballot)
    db.commit()
    rows = {
        # 23:30 on 1 June in Vietnam is still 1 June there (16:30 UTC).
        "approved": event(
            db, organizer, "entry.approved", "entry", first.id, vn(2025, 6, 1, 23, 30), contest=contest
        ),
        "rejected": event(
            db,
            other,
            "entry.rejected",
            "entry",
            second.id,
            vn(2025, 6, 2, 0, 15),
            contest=contest,
            reason='=HYPERLINK("http://evil.example")',
        ),
        "voided": event(
            db,
            other,
            "vote.voided",
            "vote",
            ballot.id,
            vn(2025, 6, 2, 9),
            contest=contest,
            reason="Ring",
            details={"entry_id": second.id, "voter_id": author.id},
        ),
        "role": event(
            db, organizer, "account.role_changed", "user", other.id, vn(2025, 6, 3, 8), reason="Helps"
        ),
        "system": event(
            db, None, "contest.published", "contest", contest.id, vn(2025, 6, 3, 9), contest=contest
        ),
    }
    return {"other": other, "first": first, "second": second, "ballot": ballot, **rows}


def reasons_shown(client, query: str = "") -> list[int]:
    page = client.get(f"/admin/audit{query}", headers=EN)
    assert page.status_code == 200, page.text
    return [int(n) for n in re.findall(r'<tr class="audit-[^"]*" data-event="(\d+)"', page.text)]


def ids(*events) -> list[int]:
    return [e.id for e in events]


def test_every_event_newest_first(client, logbook, organizer):
    log_in(client, organizer)
    shown = reasons_shown(client)
    b = logbook
    assert shown == ids(b["system"], b["role"], b["voided"], b["rejected"], b["approved"])
    page = client.get("/admin/audit", headers=EN).text
    assert "Role changed" in page and "Entry rejected" in page  # actions named in words
    assert "contest.published" in page  # an action without a label shows its code


def test_filter_by_who(client, logbook, organizer):
    log_in(client, organizer)
    b = logbook
    assert reasons_shown(client, f"?actor={organizer.id}") == ids(b["role"], b["approved"])
    assert reasons_shown(client, f"?actor={b['other'].id}") == ids(b["voided"], b["rejected"])
    assert reasons_shown(client, "?actor=system") == ids(b["system"])
    page = client.get("/admin/audit", headers=EN).text
    assert "Trần Thị Bình &lt;btc2@example.com&gt;" in page  # offered by name in the chooser


def test_filter_by_action_and_by_dates_in_vietnam_time(client, logbook, organizer):
    log_in(client, organizer)
    b = logbook
    assert reasons_shown(client, "?action=entry.rejected") == ids(b["rejected"])
    # Vietnam's 1 June ends at 17:00 UTC: the 23:30 approval belongs to it, the 00:15 rejection not.
    assert reasons_shown(client, "?until=2025-06-01") == ids(b["approved"])
    assert reasons_shown(client, "?since=2025-06-02&until=2025-06-02") == ids(b["voided"], b["rejected"])
    assert reasons_shown(client, "?since=2025-06-03") == ids(b["system"], b["role"])


def test_filter_by_record_and_by_entry_code(client, logbook, organizer):
    log_in(client, organizer)
    b = logbook
    assert reasons_shown(client, "?subject_type=user") == ids(b["role"])
    assert reasons_shown(client, f"?subject_type=entry&subject_id={b['first'].id}") == ids(b["approved"])
    # The entry code finds the decisions on the entry and on the votes for it.
    assert reasons_shown(client, f"?entry={b['second'].code.lower()}") == ids(b["voided"], b["rejected"])
    assert reasons_shown(client, "?entry=NOPE-9999") == []
    assert "No event matches this filter." in client.get("/admin/audit?entry=NOPE-9999", headers=EN).text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?since=2025-06-03&until=2025-06-01", "The end date comes before the start date."),
        ("?since=yesterday", "Not a valid date value."),
        ("?subject_id=-4", "Number must be between 1 and"),
        ("?actor=999999", "Not a valid choice."),
        ("?action=nonsense", "Not a valid choice."),
        ("?page=0", "This page of the list does not exist."),
    ],
)
def test_bad_filters_say_so(client, logbook, organizer, query, message):
    log_in(client, organizer)
    page = client.get(f"/admin/audit{query}", headers=EN)
    assert page.status_code == 400
    assert message in page.text
    assert client.get(f"/admin/audit.csv{query}", headers=EN).status_code == 400


def test_pages_of_fifty_keep_the_filter(client, db, contest, organizer):
    for n in range(51):
        event(db, organizer, "entry.approved", "entry", n + 1, vn(2025, 6, 1, 8, n), contest=contest)
    event(db, organizer, "vote.voided", "vote", 1, vn(2025, 6, 1, 9))
    log_in(client, organizer)
    first = client.get("/admin/audit?action=entry.approved", headers=EN).text
    assert len(re.findall(r'data-event="\d+"', first)) == 50
    older = re.search(r'href="([^"]*page=2[^"]*)"', first).group(1).replace("&amp;", "&")
    assert "action=entry.approved" in older
    second = client.get(older, headers=EN).text
    assert len(re.findall(r'data-event="\d+"', second)) == 1
    assert "Newer" in second and "Older" not in second


def test_csv_has_the_filtered_events_with_a_bom_and_formulas_kept_as_text(client, logbook, organizer):
    log_in(client, organizer)
    b = logbook
    response = client.get(f"/admin/audit.csv?actor={b['other'].id}", headers=EN)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-log-')
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0] == [
        "Time (Vietnam)",
        "Who",
        "E-mail address",
        "Action",
        "Action code",
        "Kind of record",
        "Record number",
        "Entry code",
        "Reason",
        "Details",
    ]
    voided, rejected = rows[1:]
    assert voided[:8] == [
        "2025-06-02 09:00:00",
        "Trần Thị Bình",
        "btc2@example.com",
        "Vote voided",
        "vote.voided",
        "vote",
        str(b["ballot"].id),
        b["second"].code,
    ]
    assert voided[8] == "Ring" and f'"entry_id": {b["second"].id}' in voided[9]
    assert rejected[0] == "2025-06-02 00:15:00"  # Vietnam time, not UTC
    assert rejected[8] == '\'=HYPERLINK("http://evil.example")'  # a spreadsheet shows it, never runs it


def test_csv_of_the_whole_log_in_vietnamese(client, logbook, organizer):
    log_in(client, organizer, lang=None)
    body = client.get("/admin/audit.csv").data.decode("utf-8")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][0] == "Thời gian (giờ Việt Nam)"
    assert len(rows) == 1 + 5
    assert [row[4] for row in rows[1:]][-1] == "entry.approved"
    assert next(row for row in rows[1:] if row[4] == "account.role_changed")[3] == "Đổi vai trò"
    system = next(row for row in rows[1:] if row[4] == "contest.published")
    assert system[2] == "" and system[1] != ""


# --- who may do what --------------------------------------------------------------------
ROLES = ["anonymous", "entrant", "judge", "organizer"]
ACCESS = {"/admin/audit": (302, 403, 403, 200), "/admin/audit.csv": (302, 403, 403, 200)}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", list(ACCESS))
def test_access_matrix(request, client, logbook, route, role):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    response = client.get(route, headers=EN)
    assert response.status_code == ACCESS[route][ROLES.index(role)]
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")
    if role != "organizer":
        assert b"Ring" not in response.data


# --- in a browser -------------------------------------------------------------------------------
@pytest.mark.browser
def test_the_audit_log_on_a_phone(tmp_path, browser_page):
    """390 px wide in headless Chromium: the filter and the events fit, no script error or policy
    violation; a filter chosen in the form narrows the list."""
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        session = db_ext.session
        contest, _ = build_demo_contest(session)
        organizer = create_user(session, "btc@example.com", role=Role.organizer, birth_year=None, locale="en")
        author = create_user(session, "tac.gia@example.com")
        entry = make_entry(session, contest, author)
        long_reason = "Ảnh không chụp tại Nghệ An theo thông tin vị trí " * 4
        event(
            session,
            organizer,
            "entry.rejected",
            "entry",
            entry.id,
            vn(2025, 6, 2, 8),
            contest=contest,
            reason=long_reason,
        )
        event(session, None, "contest.published", "contest", contest.id, vn(2025, 6, 1, 8), contest=contest)
    page = browser_page.page
    try:
        with live_server(app) as url:
            page.goto(f"{url}/account/login", wait_until="load")
            page.fill("input[name=email]", "btc@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.locator("form [type=submit]").last.click()
            page.wait_for_load_state("load")
            page.goto(f"{url}/admin/audit", wait_until="load")
            assert page.locator("tr[data-event]").count() == 2
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.select_option("select[name=action]", "entry.rejected")
            page.locator("form.audit-filter [type=submit]").click()
            page.wait_for_load_state("load")
            assert page.locator("tr[data-event]").count() == 1
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            box = page.locator("tr[data-event]").first.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert browser_page.problems() == []
    finally:
        app.extensions["db"].dispose()
