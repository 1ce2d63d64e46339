"""Moderation: organizers approve entries into the gallery or reject them, with audit events."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from contest.audit.models import AuditEvent
from contest.auth.models import User
from contest.contests.models import Contest, EditsAfterApproval
from contest.contests.settings import contest_settings
from contest.db import now_utc
from contest.entries.models import AssetKind, Entry, EntryFlag, EntryStatus, FlagKind, MediaAsset
from tests.support import create_user, log_in

EN = {"Accept-Language": "en"}


def make_entry(
    db, contest: Contest, author: User, number: int, status: EntryStatus, *, category=None, age_days: int = 0
) -> Entry:
    entry = Entry(
        code=f"{contest.code_prefix}-{number:04d}",
        contest_id=contest.id,
        category_id=(category or contest.categories[0]).id,
        author_id=author.id,
        place_id=contest.places[0].id,
        title=f"Work {number}",
        taken_on=date(2024, 5, 1),
        status=status,
        submitted_at=now_utc() - timedelta(days=age_days),
    )
    db.add(entry)
    db.commit()
    return entry


def audit_events(db, action: str | None = None) -> list[AuditEvent]:
    db.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.scalars(query))


def codes_listed(html: str) -> list[str]:
    return re.findall(r'<li class="panel moderation-entry" id="entry-([A-Z0-9-]+)"', html)


# --- the queue --------------------------------------------------------------------------
def test_the_queue_lists_entries_awaiting_review_oldest_first(
    client, db, contest, organizer, entrant, storage
):
    photo, video = contest.categories[0], contest.categories[-1]
    newer = make_entry(db, contest, entrant, 1, EntryStatus.pending_review, age_days=1)
    older = make_entry(db, contest, entrant, 2, EntryStatus.pending_review, age_days=3)
    other_category = make_entry(
        db, contest, entrant, 3, EntryStatus.pending_review, category=video, age_days=2
    )
    make_entry(db, contest, entrant, 4, EntryStatus.approved)
    make_entry(db, contest, entrant, 5, EntryStatus.processing)
    older.assets.append(
        MediaAsset(
            kind=AssetKind.display_jpeg,
            storage_key="public/display/older.jpg",
            mime_type="image/jpeg",
            bytes=10,
            width=1600,
            height=1200,
        )
    )
    db.add_all(
        EntryFlag(entry_id=older.id, position=0, kind=kind, details={})
        for kind in (FlagKind.taken_outside_window, FlagKind.edited_with_software)
    )
    db.commit()
    log_in(client, organizer)

    response = client.get("/admin/entries", headers=EN)
    assert response.status_code == 200
    html = response.text
    assert codes_listed(html) == [older.code, other_category.code, newer.code]
    assert "Awaiting review (3)" in html
    assert "Approved (1)" in html
    assert "Rejected (0)" in html
    # The author, the full-size picture (its private copy, signed: the entry is not approved),
    # and the flags.
    assert "Nguyễn Văn An &lt;entrant@example.com&gt;" in html
    assert re.search(r'<img src="/media/private/display/older\.jpg\?e=\d+&amp;s=[0-9a-f]{64}"', html)
    assert "/media/public/" not in html
    assert "<strong>Taken outside the contest's dates</strong>" in html
    assert "<strong>Edited with software</strong>" in html

    by_category = client.get(f"/admin/entries?contest={contest.id}&category={photo.id}", headers=EN).text
    assert codes_listed(by_category) == [older.code, newer.code]
    assert "Awaiting review (2)" in by_category
    approved = client.get(f"/admin/entries?contest={contest.id}&status=approved", headers=EN).text
    assert codes_listed(approved) == [f"{contest.code_prefix}-0004"]


def test_the_queue_is_paginated(client, db, contest, organizer, entrant):
    for number in range(1, 33):
        make_entry(db, contest, entrant, number, EntryStatus.pending_review, age_days=40 - number)
    log_in(client, organizer)
    first = client.get("/admin/entries", headers=EN).text
    assert len(codes_listed(first)) == 30
    assert "page=2" in first
    second = client.get(f"/admin/entries?contest={contest.id}&status=pending_review&page=2", headers=EN).text
    assert codes_listed(second) == [f"{contest.code_prefix}-0031", f"{contest.code_prefix}-0032"]
    assert client.get("/admin/entries?page=0", headers=EN).status_code == 400


@pytest.mark.parametrize("query", ["status=draft", "status=nonsense", "category=987654", "contest=987654"])
def test_a_wrong_filter_is_refused(client, contest, organizer, query):
    log_in(client, organizer)
    assert client.get(f"/admin/entries?{query}", headers=EN).status_code == 400


# --- decisions --------------------------------------------------------------------------
def test_approving_moves_the_entry_to_the_gallery_with_an_audit_event(
    client, db, contest, organizer, entrant
):
    entry = make_entry(db, contest, entrant, 1, EntryStatus.pending_review)
    log_in(client, organizer)
    back = f"/admin/entries?contest={contest.id}&status=pending_review"
    response = client.post(f"/admin/entries/{entry.id}/approve", data={"next": back}, headers=EN)
    assert response.status_code == 302
    assert response.headers["Location"] == back

    db.expire_all()
    assert entry.status is EntryStatus.approved
    assert entry.approved_at is not None
    [event] = audit_events(db)
    assert (event.action, event.subject_type, event.subject_id) == ("entry.approved", "entry", entry.id)
    assert (event.actor_id, event.contest_id, event.reason) == (organizer.id, contest.id, "")
    assert event.details == {"code": entry.code, "from": "pending_review"}
    page = client.get(back, headers=EN).text
    assert f"{entry.code} is approved: it appears in the public gallery." in page
    assert codes_listed(page) == []


def test_rejecting_needs_a_reason(client, db, contest, organizer, entrant):
    entry = make_entry(db, contest, entrant, 1, EntryStatus.pending_review)
    log_in(client, organizer)
    refused = client.post(f"/admin/entries/{entry.id}/reject", data={"reason": "   "}, headers=EN)
    assert refused.status_code == 400
    assert "Please say why the entry is rejected." in refused.text
    db.expire_all()
    assert entry.status is EntryStatus.pending_review
    assert audit_events(db) == []

    response = client.post(
        f"/admin/entries/{entry.id}/reject", data={"reason": " Not taken in Nghệ An "}, headers=EN
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/entries"
    db.expire_all()
    assert entry.status is EntryStatus.rejected
    [event] = audit_events(db)
    assert (event.action, event.subject_id, event.reason) == (
        "entry.rejected",
        entry.id,
        "Not taken in Nghệ An",
    )
    assert event.details == {"code": entry.code, "from": "pending_review"}


def test_an_approved_entry_can_be_taken_down_and_approved_again(client, db, contest, organizer, entrant):
    entry = make_entry(db, contest, entrant, 1, EntryStatus.approved)
    log_in(client, organizer)
    client.post(f"/admin/entries/{entry.id}/reject", data={"reason": "Copied from a stock site"})
    db.expire_all()
    assert entry.status is EntryStatus.rejected
    client.post(f"/admin/entries/{entry.id}/approve")
    db.expire_all()
    assert entry.status is EntryStatus.approved
    assert [(e.action, e.details["from"]) for e in audit_events(db)] == [
        ("entry.rejected", "approved"),
        ("entry.approved", "rejected"),
    ]


@pytest.mark.parametrize("status", [EntryStatus.withdrawn, EntryStatus.processing, EntryStatus.failed])
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_decision_the_status_does_not_allow_changes_nothing(
    client, db, contest, organizer, entrant, status, decision
):
    entry = make_entry(db, contest, entrant, 1, status)
    log_in(client, organizer)
    response = client.post(
        f"/admin/entries/{entry.id}/{decision}",
        data={"reason": "Duplicate"},
        headers=EN,
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert f"{entry.code} was not changed: its status is “{status.value.capitalize()}” now." in response.text
    db.expire_all()
    assert entry.status is status
    assert audit_events(db) == []


def test_the_reject_page_shows_the_entry_and_keeps_the_way_back(client, db, contest, organizer, entrant):
    entry = make_entry(db, contest, entrant, 1, EntryStatus.pending_review)
    log_in(client, organizer)
    back = f"/admin/entries?contest={contest.id}&page=1"
    page = client.get(f"/admin/entries/{entry.id}/reject?next={back.replace('&', '%26')}", headers=EN).text
    assert entry.code in page
    assert 'name="next" type="hidden" value="/admin/entries?contest=' in page
    response = client.post(f"/admin/entries/{entry.id}/reject", data={"reason": "Blurry", "next": back})
    assert response.headers["Location"] == back


@pytest.mark.parametrize("target", ["https://evil.example/admin", "//evil.example/", "javascript:alert(1)"])
def test_the_way_back_never_leaves_the_site(client, db, contest, organizer, entrant, target):
    entry = make_entry(db, contest, entrant, 1, EntryStatus.pending_review)
    log_in(client, organizer)
    response = client.post(f"/admin/entries/{entry.id}/approve", data={"next": target})
    assert response.headers["Location"] == "/admin/entries"


def test_unknown_entries_are_404(client, contest, organizer):
    log_in(client, organizer)
    assert client.post("/admin/entries/987654/approve").status_code == 404
    assert client.post("/admin/entries/987654/reject", data={"reason": "x"}).status_code == 404
    assert client.get("/admin/entries/987654/reject").status_code == 404


def test_the_queue_renders_in_vietnamese(client, db, contest, organizer, entrant):
    make_entry(db, contest, entrant, 1, EntryStatus.pending_review)
    log_in(client, organizer, lang=None)
    response = client.get("/admin/entries")
    assert response.status_code == 200
    assert '<html lang="vi">' in response.text


def test_decisions_work_with_csrf_protection(app, client, db, contest, organizer, entrant, monkeypatch):
    """With CSRF on, as in production: the list's forms carry the token, a post without it fails."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    entry = make_entry(db, contest, entrant, 1, EntryStatus.pending_review)
    log_in(client, organizer)
    page = client.get("/admin/entries", headers=EN).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/admin/entries/{entry.id}/approve", data={}).status_code == 400
    assert client.post(f"/admin/entries/{entry.id}/reject", data={"reason": "x"}).status_code == 400
    db.expire_all()
    assert entry.status is EntryStatus.pending_review
    assert client.post(f"/admin/entries/{entry.id}/approve", data={"csrf_token": token}).status_code == 302
    db.expire_all()
    assert entry.status is EntryStatus.approved


# --- who may do what --------------------------------------------------------------------
ROLES = ["anonymous", "entrant", "judge", "organizer"]
ACCESS = {
    ("GET", "/admin/entries"): (302, 403, 403, 200),
    ("POST", "/admin/entries/{entry}/approve"): (302, 403, 403, 302),
    ("GET", "/admin/entries/{entry}/reject"): (302, 403, 403, 200),
    ("POST", "/admin/entries/{entry}/reject"): (302, 403, 403, 302),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "route"), list(ACCESS))
def test_access_matrix(request, client, db, contest, entrant, method, route, role):
    entry = make_entry(db, contest, create_user(db, "author@example.com"), 1, EntryStatus.pending_review)
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    response = client.open(
        route.format(entry=entry.id), method=method, data={"reason": "Blurry"} if method == "POST" else None
    )
    assert response.status_code == ACCESS[(method, route)][ROLES.index(role)]
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")
    db.expire_all()
    if role != "organizer":
        assert entry.status is EntryStatus.pending_review
        assert audit_events(db) == []


# --- an entrant's edit of an approved entry ---------------------------------------------------
EDIT = {"title": "Work 1, at dawn", "description": "Fog on the Lam river.", "taken_on": "2024-05-01"}


def edit_form(contest: Contest, **changes) -> dict:
    return {**EDIT, "place": str(contest.places[0].id), **changes}


def test_an_approved_entrys_edit_sends_it_back_to_review_with_the_old_and_new_values(
    client, db, contest, entrant, organizer
):
    entry = make_entry(db, contest, entrant, 1, EntryStatus.approved)
    log_in(client, entrant)
    page = client.get(f"/entries/{entry.code}/edit", headers=EN).text
    assert "Saving a change sends it back to review: it leaves the gallery" in page

    form = edit_form(contest, place=str(contest.places[3].id))
    response = client.post(f"/entries/{entry.code}/edit", data=form, headers=EN, follow_redirects=True)

    assert response.status_code == 200
    assert f"Entry {entry.code} was saved and sent back to review: it is out of the gallery" in response.text
    db.expire_all()
    assert (entry.status, entry.title, entry.place_id) == (
        EntryStatus.pending_review,
        "Work 1, at dawn",
        contest.places[3].id,
    )
    [event] = audit_events(db, "entry.edited")
    assert (event.actor_id, event.subject_type, event.subject_id, event.contest_id) == (
        entrant.id,
        "entry",
        entry.id,
        contest.id,
    )
    assert event.details == {
        "code": entry.code,
        "from": "approved",
        "to": "pending_review",
        "changes": {
            "title": ["Work 1", "Work 1, at dawn"],
            "description": ["", "Fog on the Lam river."],
            "place_id": [contest.places[0].id, contest.places[3].id],
            "place": [contest.places[0].name_vi, contest.places[3].name_vi],
        },
    }
    # The organizers read the change in the audit log.
    log_in(client, organizer)
    audit = client.get("/admin/audit", headers=EN).text
    assert "Entry edited by its author" in audit
    assert "Title: «Work 1» → «Work 1, at dawn»" in audit
    assert f"Place in Nghệ An: «{contest.places[0].name_vi}» → «{contest.places[3].name_vi}»" in audit


def test_an_edit_while_awaiting_review_is_audited_and_an_unchanged_one_is_not(client, db, contest, entrant):
    entry = make_entry(db, contest, entrant, 1, EntryStatus.pending_review)
    log_in(client, entrant)
    response = client.post(
        f"/entries/{entry.code}/edit", data=edit_form(contest, taken_on="2024-05-02"), headers=EN
    )
    assert response.status_code == 302
    db.expire_all()
    assert entry.status is EntryStatus.pending_review
    [event] = audit_events(db, "entry.edited")
    assert event.details["changes"]["taken_on"] == ["2024-05-01", "2024-05-02"]
    assert (event.details["from"], event.details["to"]) == ("pending_review", "pending_review")

    again = client.post(
        f"/entries/{entry.code}/edit",
        data=edit_form(contest, taken_on="2024-05-02"),
        headers=EN,
        follow_redirects=True,
    )
    assert f"Entry {entry.code} was not changed." in again.text
    assert len(audit_events(db, "entry.edited")) == 1


def test_with_edits_refused_after_approval_an_approved_entry_cannot_change(client, db, contest, entrant):
    contest.edits_after_approval = EditsAfterApproval.refused
    entry = make_entry(db, contest, entrant, 1, EntryStatus.approved)
    log_in(client, entrant)
    closed = f"Entry {entry.code} is approved: this contest does not allow changes to approved entries."

    page = client.get(f"/entries/{entry.code}/edit", headers=EN, follow_redirects=True)
    assert closed in page.text
    assert f"/entries/{entry.code}/edit" not in client.get("/entries/mine", headers=EN).text
    response = client.post(
        f"/entries/{entry.code}/edit", data=edit_form(contest), headers=EN, follow_redirects=True
    )

    assert closed in response.text
    db.expire_all()
    assert (entry.status, entry.title, entry.description) == (EntryStatus.approved, "Work 1", "")
    assert audit_events(db, "entry.edited") == []
    # An entry still awaiting review can change as before.
    waiting = make_entry(db, contest, entrant, 2, EntryStatus.pending_review)
    assert (
        client.post(f"/entries/{waiting.code}/edit", data=edit_form(contest), headers=EN).status_code == 302
    )


def test_the_organizer_chooses_what_an_edit_after_approval_does(client, db, contest, organizer):
    log_in(client, organizer)
    page = client.get(f"/admin/contests/{contest.id}/edit", headers=EN).text
    assert "When an entrant changes an approved entry" in page
    values = contest_settings(contest)
    form = {
        name: value.strftime("%Y-%m-%dT%H:%M") if isinstance(value, datetime) else value
        for name, value in values.items()
        if value is not None and value is not False
    }
    form.update(
        edits_after_approval="refused", is_published="y", min_entrant_age=str(values["min_entrant_age"])
    )
    assert client.post(f"/admin/contests/{contest.id}/edit", data=form).status_code == 302
    db.expire_all()
    assert contest.edits_after_approval is EditsAfterApproval.refused
    form["edits_after_approval"] = "anything"
    assert client.post(f"/admin/contests/{contest.id}/edit", data=form).status_code == 400
