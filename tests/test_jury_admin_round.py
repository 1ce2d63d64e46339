"""A round's page for organizers: open, close, reopen, the preview of the previous round's
thresholds, disqualification, the judges' progress and the reminder to those behind; and
every jury page of organizers against every role."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from contest.audit.models import AuditEvent
from contest.jury import selection
from contest.jury.models import Round, RoundEntry, RoundKind, RoundStatus, SourceRule
from contest.jury.progress import behind, judges_progress
from contest.jury.rounds import open_round
from contest.jury.scores import Judgement, save_judgement
from contest.mail.models import OutboundEmail
from tests.jury_support import assignments, build_jury, new_round, round_scene
from tests.support import log_in

EN = {"Accept-Language": "en"}

GET_ROUTES = [
    "/admin/jury/rounds/{open}",
    "/admin/jury/rounds/{draft}/edit",
    "/admin/jury/rounds/{closed}/reopen",
    "/admin/jury/rounds/{open}/entries",
    "/admin/jury/rounds/{open}/entries/{entry}/disqualify",
    "/admin/jury/contests/{contest}/judges",
    "/admin/jury/contests/{contest}/judges/{member}/remove",
]
POST_ROUTES = [
    "/admin/jury/rounds/{draft}/edit",
    "/admin/jury/rounds/{draft}/open",
    "/admin/jury/rounds/{open}/close",
    "/admin/jury/rounds/{closed}/reopen",
    "/admin/jury/rounds/{open}/remind",
    "/admin/jury/rounds/{open}/entries/{entry}/disqualify",
    "/admin/jury/rounds/{open}/entries/{entry}/restore",
    "/admin/jury/contests/{contest}/judges/add",
    "/admin/jury/contests/{contest}/judges/invite",
    "/admin/jury/contests/{contest}/judges/{member}/remove",
    "/admin/jury/contests/{contest}/conflicts",
    "/admin/jury/contests/{contest}/conflicts/{conflict}/withdraw",
]


@pytest.fixture
def scene(db, contest):
    return round_scene(db, contest)


def _url(route: str, scene) -> str:
    return route.format(
        contest=scene.jury.contest.id,
        draft=scene.draft.id,
        open=scene.open.id,
        closed=scene.closed.id,
        entry=scene.jury.entries[0].id,
        member=scene.jury.judges[0].id,
        conflict=scene.conflict_id,
    )


def _who(request, scene, role: str):
    """The account of a role; "jury judge" is a judge of this very jury."""
    return scene.jury.judges[0] if role == "jury judge" else request.getfixturevalue(role)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anonymous", 302), ("entrant", 403), ("judge", 403), ("jury judge", 403), ("organizer", 200)],
)
def test_access_matrix_of_the_jury_pages(request, client, scene, role, expected):
    """Every page against a role (one scene per role: the routes share it)."""
    if role != "anonymous":
        log_in(client, _who(request, scene, role))
    answers = {route: client.get(_url(route, scene), headers=EN) for route in GET_ROUTES}
    assert {route: r.status_code for route, r in answers.items()} == dict.fromkeys(GET_ROUTES, expected)
    if role == "anonymous":
        assert all(r.headers["Location"].startswith("/account/login") for r in answers.values())


@pytest.mark.parametrize("role", ["anonymous", "entrant", "judge", "jury judge"])
def test_only_organizers_act_on_the_jury(request, client, db, scene, role):
    if role != "anonymous":
        log_in(client, _who(request, scene, role))
    events = db.scalar(select(func.count()).select_from(AuditEvent))
    data = {"reason": "x", "email": "moi@example.com", "full_name": "Moi", "locale": "vi", "judge": "1"}
    statuses = {
        route: client.post(_url(route, scene), data=data, headers=EN).status_code for route in POST_ROUTES
    }
    assert statuses == dict.fromkeys(POST_ROUTES, 302 if role == "anonymous" else 403)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_unknown_round_or_entry_is_404(client, scene, organizer):
    log_in(client, organizer)
    assert client.get("/admin/jury/rounds/987654", headers=EN).status_code == 404
    assert client.get(f"/admin/jury/rounds/{scene.open.id}/entries/987654/disqualify").status_code == 404


def _actions(db, round_id: int) -> list[str]:
    db.expire_all()
    query = select(AuditEvent.action).where(
        AuditEvent.subject_type == "round", AuditEvent.subject_id == round_id
    )
    return list(db.scalars(query.order_by(AuditEvent.id)))


def test_open_close_and_reopen_with_a_reason(client, db, scene, organizer):
    log_in(client, organizer)
    round_ = scene.draft
    page = client.post(f"/admin/jury/rounds/{round_.id}/open", headers=EN, follow_redirects=True)
    assert "The round is open and its entries are dealt." in page.text
    db.expire_all()
    assert db.get(Round, round_.id).status is RoundStatus.open and assignments(db, round_)
    assert _actions(db, round_.id)[-2:] == ["round.dealt", "round.opened"]

    again = client.post(f"/admin/jury/rounds/{round_.id}/open", headers=EN, follow_redirects=True)
    assert "Only a draft round can be opened" in again.text

    page = client.post(f"/admin/jury/rounds/{round_.id}/close", headers=EN, follow_redirects=True)
    assert "The round is closed: its scores are read-only." in page.text
    db.expire_all()
    assert db.get(Round, round_.id).status is RoundStatus.closed
    assert _actions(db, round_.id)[-1] == "round.closed"

    url = f"/admin/jury/rounds/{round_.id}/reopen"
    assert "Reopen the round" in client.get(url, headers=EN).text
    refused = client.post(url, data={"reason": "  "}, headers=EN)
    assert refused.status_code == 400 and "Please give the reason." in refused.text
    db.expire_all()
    assert db.get(Round, round_.id).status is RoundStatus.closed
    page = client.post(url, data={"reason": "Một giám khảo chấm nhầm"}, headers=EN, follow_redirects=True)
    assert "The round is open again." in page.text
    db.expire_all()
    assert db.get(Round, round_.id).status is RoundStatus.open
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "round.reopened"))
    assert (event.subject_id, event.reason) == (round_.id, "Một giám khảo chấm nhầm")


def test_a_draft_is_edited_and_an_open_round_is_not(client, db, scene, organizer):
    log_in(client, organizer)
    url = f"/admin/jury/rounds/{scene.draft.id}/edit"
    opens_at = scene.draft.opens_at
    form = client.get(url, headers=EN)
    assert form.status_code == 200 and 'value="Draft round"' in form.text
    fields = dict(re.findall(r'name="(name_vi|opens_at|closes_at)"[^>]*value="([^"]*)"', form.text))
    data = {
        **fields,
        "name_en": "Renamed round",
        "kind": "yes_no",
        "categories": [str(c.id) for c in scene.draft.categories],
        "quorum": "2",
        "source_rule": "approved_entries",
        "source_round": "0",
    }
    saved = client.post(url, data=data, headers=EN)
    assert saved.status_code == 302, saved.text
    db.expire_all()
    edited = db.get(Round, scene.draft.id)
    assert (edited.name_en, edited.quorum) == ("Renamed round", 2)
    assert abs(edited.opens_at - opens_at) < timedelta(minutes=1)  # as typed, to the minute
    assert _actions(db, scene.draft.id)[-1] == "round.edited"

    page = client.get(f"/admin/jury/rounds/{scene.open.id}/edit", headers=EN, follow_redirects=True)
    assert "Only a draft round can be edited." in page.text


def test_disqualify_with_a_reason_and_restore(client, db, scene, organizer):
    log_in(client, organizer)
    round_, entry = scene.open, scene.jury.entries[0]
    url = f"/admin/jury/rounds/{round_.id}/entries/{entry.id}/disqualify"
    refused = client.post(url, data={"reason": ""}, headers=EN)
    assert refused.status_code == 400 and "Please give the reason." in refused.text

    page = client.post(url, data={"reason": "Ảnh đã đăng báo"}, headers=EN, follow_redirects=True)
    assert f"Entry {entry.code} is disqualified from this round." in page.text
    assert "Ảnh đã đăng báo" in page.text and "Restore" in page.text
    db.expire_all()
    row = db.scalar(
        select(RoundEntry).where(RoundEntry.round_id == round_.id, RoundEntry.entry_id == entry.id)
    )
    assert row.disqualified_reason == "Ảnh đã đăng báo"
    assert _actions(db, round_.id)[-1] == "round.entry_disqualified"

    restore = f"/admin/jury/rounds/{round_.id}/entries/{entry.id}/restore"
    page = client.post(restore, headers=EN, follow_redirects=True)
    assert f"Entry {entry.code} is back in this round." in page.text
    db.expire_all()
    assert db.get(RoundEntry, row.id).disqualified_at is None
    assert "round.entry_restored" in _actions(db, round_.id)


def _judge_everything(db, round_: Round, verdicts: dict[int, bool] | None = None, values=None) -> None:
    """Every judge of the round gives every entry dealt to them a judgement."""
    for a in assignments(db, round_):
        if round_.kind is RoundKind.yes_no:
            judgement = Judgement(verdict=verdicts.get(a.entry_id, False))
        else:
            judgement = Judgement(values={c.id: values(a.entry_id, c) for c in round_.criteria})
        save_judgement(db, a.id, a.judge_id, judgement)
    db.commit()


def _preview_tables(html: str) -> dict[str, list[tuple[float, int]]]:
    tables = re.findall(r'<table class="data preview" data-rule="(\w+)">(.*?)</table>', html, re.S)
    rows = r"<tr><td>([\d.,]+)</td><td class=\"num\">(\d+)</td></tr>"
    return {
        rule: [(float(t.replace(",", "")), int(n)) for t, n in re.findall(rows, body)]
        for rule, body in tables
    }


def test_the_preview_counts_match_the_selection_service(client, db, contest, organizer):
    jury = build_jury(db, contest, judges=3, entries_each=4)
    first = new_round(db, jury, quorum=2)
    open_round(db, first, actor_id=jury.organizer.id, seed=3)
    db.commit()
    # Scores spread over the scales, by entry.
    _judge_everything(db, first, values=lambda entry_id, c: c.value(min(c.max_steps, (entry_id % 5) * 3)))
    final = new_round(
        db,
        jury,
        name_en="Final",
        quorum=None,
        source_rule=SourceRule.top_n,
        source_round=first,
        source_threshold=5,
    )
    db.commit()
    log_in(client, organizer)

    page = client.get(f"/admin/jury/rounds/{final.id}", headers=EN).text
    expected = len(selection.passing(db, first, SourceRule.top_n, 5))
    assert f"With this rule, {expected} entries enter the round when it opens." in page
    (top,) = _preview_tables(page).values()
    assert top and all(count == len(selection.passing(db, first, SourceRule.top_n, n)) for n, count in top)
    assert top[-1] == (len(selection.entry_scores(db, first)),) * 2  # the last row: every scored entry

    form = client.get(f"/admin/jury/contests/{contest.id}/rounds/new", headers=EN).text
    tables = _preview_tables(form)
    assert set(tables) == {"top_n", "min_score"}
    for rule, rows in tables.items():
        for threshold, count in rows:
            assert count == len(selection.passing(db, first, SourceRule(rule), threshold)), (rule, threshold)
    assert len(tables["min_score"]) > 1 and len({count for _, count in tables["min_score"]}) > 1

    open_round(db, final, actor_id=jury.organizer.id)
    db.commit()
    assert db.scalar(select(func.count()).where(RoundEntry.round_id == final.id)) == expected


def test_progress_and_the_reminder_go_to_the_judges_behind_in_their_language(client, db, contest, organizer):
    jury = build_jury(db, contest, judges=4, entries_each=4)
    for judge, locale in zip(jury.judges, ["en", "en", "vi", "vi"], strict=True):
        judge.locale = locale
    round_ = new_round(db, jury, RoundKind.yes_no, quorum=2, name_vi="Vòng chọn", name_en="Keep or drop")
    open_round(db, round_, actor_id=jury.organizer.id, seed=5)
    db.commit()
    done_by = {jury.judges[0].id, jury.judges[3].id}  # 1 and 2 have judged nothing
    for a in assignments(db, round_):
        if a.judge_id in done_by:
            save_judgement(db, a.id, a.judge_id, Judgement(verdict=True))
    db.commit()
    log_in(client, organizer)

    page = client.get(f"/admin/jury/rounds/{round_.id}", headers=EN).text
    marked = set(re.findall(r'<tr id="judge-(\d+)" class="behind">', page))
    assert marked == {str(jury.judges[1].id), str(jury.judges[2].id)}
    assert "E-mail a reminder to the 2 judges who are behind" in page

    sent = client.post(f"/admin/jury/rounds/{round_.id}/remind", headers=EN, follow_redirects=True)
    assert "2 judges were reminded." in sent.text
    db.expire_all()
    emails = {e.recipient: e for e in db.scalars(select(OutboundEmail))}
    assert set(emails) == {jury.judges[1].email, jury.judges[2].email}
    english, vietnamese = emails[jury.judges[1].email], emails[jury.judges[2].email]
    assert english.subject == "Entries are waiting for your judgement: Keep or drop"
    assert "You have judged 0 of the" in english.body_text
    assert re.search(rf"https?://\S+/jury/rounds/{round_.id}/\s", english.body_text)
    assert "Vòng chọn" in vietnamese.subject and "Keep or drop" not in vietnamese.body_text
    assert "Bạn đã chấm 0 trên" in vietnamese.body_text
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "round.reminded"))
    assert sorted(event.details["judge_ids"]) == sorted([jury.judges[1].id, jury.judges[2].id])


def test_as_closing_approaches_everyone_not_done_is_behind(db, contest):
    jury = build_jury(db, contest, judges=3, entries_each=2)
    round_ = new_round(db, jury, RoundKind.yes_no, quorum=3)
    open_round(db, round_, actor_id=jury.organizer.id, seed=1)
    first, *others = [j.id for j in jury.judges]

    def behind_at(now) -> set[int]:
        return {p.judge.id for p in behind(round_, judges_progress(db, round_), now=now)}

    assert behind_at(round_.opens_at) == set()  # nobody below the average, no time past
    assert behind_at(round_.closes_at - timedelta(hours=1)) == {first, *others}
    for a in assignments(db, round_):
        if a.judge_id == first:
            save_judgement(db, a.id, a.judge_id, Judgement(verdict=False))
    assert behind_at(round_.opens_at) == set(others)  # below the average
    progress = {p.judge.id: p for p in judges_progress(db, round_)}
    assert (progress[first].share, progress[first].last_activity is not None) == (1.0, True)
    assert progress[others[0]].done == 0 and progress[others[0]].assigned > 0
