"""Organizer set-up: who may open the pages, contest settings in Vietnam time, category rules."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime

import pytest
from babel.dates import format_datetime
from sqlalchemy import event, select

from contest.auth.models import User
from contest.contests.models import Category, CategoryKind, Contest
from contest.contests.settings import contest_settings
from contest.entries.models import Entry, EntryStatus
from contest.timeutil import VN_TZ
from tests.support import log_in

EN = {"Accept-Language": "en"}


def category_of(contest: Contest, kind: CategoryKind) -> Category:
    return next(c for c in contest.categories if c.kind is kind)


def contest_form(**changes) -> dict:
    """A complete, valid contest form as an organizer types it (Vietnam time)."""
    form = {
        "title_vi": "Nghệ An Hạnh phúc 2025",
        "title_en": "Happy Nghe An 2025",
        "description_vi": "Mô tả",
        "description_en": "Description",
        "rules_vi": "Thể lệ",
        "rules_en": "Rules",
        "code_prefix": "HNA25",
        "submission_opens_at": "2025-06-01T00:00",
        "submission_closes_at": "2025-10-01T23:59",
        "voting_opens_at": "2025-09-01T08:00",
        "voting_closes_at": "2025-10-15T20:00",
        "results_at": "2025-11-01T19:30",
        "min_entrant_age": "15",
        "max_entries_per_person": "",
        "is_published": "y",
        "vote_policy": "once_per_entry_per_day",
        "votes_per_day": "",
        "vote_counts": "live",
        "audience_prize_places": "1",
        "monthly_prize_winners": "1",
    }
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def category_form(kind: CategoryKind, **changes) -> dict:
    form = {
        "name_vi": "Ảnh đơn",
        "name_en": "Photo",
        "description_vi": "",
        "description_en": "",
        "allowed_formats": ["jpeg"],
        "min_long_edge_px": "3000",
        "min_mb": "3",
        "max_mb": "60",
        "works_from": "2023-01-01",
        "works_until": "2025-10-01",
        "max_entries_per_person": "10",
    }
    if kind is CategoryKind.video:
        form.update(
            allowed_formats=["mp4"], min_long_edge_px="", min_mb="", max_mb="200", max_duration_s="300"
        )
    if kind is CategoryKind.photo_series:
        form.update(min_items="3", max_items="10")
    form.update(changes)
    return form


def snapshot(db, obj) -> dict:
    db.expire_all()
    table = type(obj).__table__
    return dict(db.execute(select(table).where(table.c.id == obj.id)).mappings().one())


def make_entry(
    db, contest: Contest, category: Category, author: User, number: int, status: EntryStatus
) -> Entry:
    entry = Entry(
        code=f"{contest.code_prefix}-{number:04d}",
        contest_id=contest.id,
        category_id=category.id,
        author_id=author.id,
        place_id=contest.places[0].id,
        title=f"Work {number}",
        taken_on=date(2024, 5, 1),
        status=status,
    )
    db.add(entry)
    db.commit()
    return entry


# --- access ---------------------------------------------------------------------------
ROUTES = ["/admin/", "/admin/contests/{contest}/edit", "/admin/categories/{category}/edit"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("entrant", 403),
        ("judge", 403),
        ("organizer", 200),
    ],
)
def test_access_matrix(request, client, contest, route, role, expected):
    url = route.format(contest=contest.id, category=contest.categories[0].id)
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    response = client.get(url, headers=EN)
    assert response.status_code == expected
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")


@pytest.mark.parametrize("role", ["anonymous", "entrant", "judge"])
def test_others_cannot_change_settings(request, client, db, contest, role):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    before = snapshot(db, contest)
    category = category_of(contest, CategoryKind.photo)
    category_before = snapshot(db, category)

    contest_response = client.post(
        f"/admin/contests/{contest.id}/edit", data=contest_form(title_en="Taken over")
    )
    category_response = client.post(
        f"/admin/categories/{category.id}/edit", data=category_form(CategoryKind.photo, min_mb="0.1")
    )

    expected = 302 if role == "anonymous" else 403
    assert (contest_response.status_code, category_response.status_code) == (expected, expected)
    assert snapshot(db, contest) == before
    assert snapshot(db, category) == category_before


@pytest.mark.parametrize("url", ["/admin/contests/987654/edit", "/admin/categories/987654/edit"])
def test_unknown_ids_are_404(client, contest, organizer, url):
    log_in(client, organizer)
    assert client.get(url, headers=EN).status_code == 404
    assert client.post(url, data=contest_form(), headers=EN).status_code == 404


def test_pages_render_in_vietnamese(client, contest, organizer):
    log_in(client, organizer, lang=None)
    for route in ROUTES:
        url = route.format(contest=contest.id, category=contest.categories[0].id)
        response = client.get(url)
        assert response.status_code == 200
        assert '<html lang="vi">' in response.get_data(as_text=True)


# --- overview -------------------------------------------------------------------------
def _row_counts(html: str, category_name: str) -> list[int]:
    row = re.search(
        rf"<tr>\s*<th scope=\"row\"><a [^>]*>{re.escape(category_name)}</a></th>(.*?)</tr>", html, re.S
    )
    assert row, f"no row for {category_name}"
    return [int(n) for n in re.findall(r'<td class="num"[^>]*>(\d+)</td>', row.group(1))]


def test_index_counts_entries_per_category_and_status_in_one_query(
    app, client, db, contest, organizer, entrant
):
    photo = category_of(contest, CategoryKind.photo)
    video = category_of(contest, CategoryKind.video)
    make_entry(db, contest, photo, entrant, 1, EntryStatus.pending_review)
    make_entry(db, contest, photo, entrant, 2, EntryStatus.pending_review)
    make_entry(db, contest, photo, entrant, 3, EntryStatus.approved)
    make_entry(db, contest, video, entrant, 4, EntryStatus.failed)
    log_in(client, organizer)

    statements: list[str] = []
    connection = app.extensions["db"].bind

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        response = client.get("/admin/", headers=EN)
    finally:
        event.remove(connection, "before_cursor_execute", record)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Columns: draft, submitted, processing, pending_review, approved, rejected, withdrawn, failed,
    # checking (the file's check after a resumable upload), total.
    assert _row_counts(html, "Photo") == [0, 0, 0, 2, 1, 0, 0, 0, 0, 3]
    assert _row_counts(html, "Video") == [0, 0, 0, 0, 0, 0, 0, 1, 0, 1]
    assert _row_counts(html, "Photo series") == [0] * 10
    assert len([s for s in statements if re.search(r"\bFROM entries\b", s)]) == 1
    assert f'href="/admin/contests/{contest.id}/edit"' in html
    for category in contest.categories:
        assert f'href="/admin/categories/{category.id}/edit"' in html


def test_index_shows_phases_in_vietnam_time(client, db, contest, organizer):
    contest.submission_opens_at = datetime(2025, 5, 31, 17, 0, tzinfo=UTC)
    db.commit()
    log_in(client, organizer)
    html = client.get("/admin/", headers=EN).get_data(as_text=True)
    shown = format_datetime(datetime(2025, 5, 31, 17, 0, tzinfo=UTC), "short", tzinfo=VN_TZ, locale="en")
    assert "6/1/25" in shown
    assert shown in html
    assert "Published" in html


# --- contest settings -----------------------------------------------------------------
def test_edit_contest_converts_vietnam_time_to_utc_and_back(client, db, contest, organizer, caplog):
    log_in(client, organizer)
    with caplog.at_level(logging.INFO, logger="contest.admin"):
        response = client.post(
            f"/admin/contests/{contest.id}/edit",
            data=contest_form(
                title_en="Happy Nghe An 2025 (edited)",
                code_prefix="hna26",
                max_entries_per_person="12",
                is_published=None,
            ),
            headers=EN,
        )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"

    db.expire_all()
    assert contest.submission_opens_at == datetime(2025, 5, 31, 17, 0, tzinfo=UTC)
    assert contest.submission_closes_at == datetime(2025, 10, 1, 16, 59, tzinfo=UTC)
    assert contest.voting_opens_at == datetime(2025, 9, 1, 1, 0, tzinfo=UTC)
    assert contest.results_at == datetime(2025, 11, 1, 12, 30, tzinfo=UTC)
    assert contest.title_en == "Happy Nghe An 2025 (edited)"
    assert contest.code_prefix == "HNA26"
    assert contest.max_entries_per_person == 12
    assert contest.is_published is False
    assert any(organizer.email in r.getMessage() and "title_en" in r.getMessage() for r in caplog.records)

    html = client.get(f"/admin/contests/{contest.id}/edit", headers=EN).get_data(as_text=True)
    assert re.search(r'id="submission_opens_at"[^>]*value="2025-06-01T00:00"', html)
    assert re.search(r'id="results_at"[^>]*value="2025-11-01T19:30"', html)


@pytest.mark.parametrize("setting", ["judges_may_vote", "organizers_may_vote", "authors_may_vote_for_own"])
def test_who_may_vote_is_off_by_default_and_set_in_the_contest_form(client, db, contest, organizer, setting):
    assert getattr(contest, setting) is False
    log_in(client, organizer)
    html = client.get(f"/admin/contests/{contest.id}/edit", headers=EN).get_data(as_text=True)
    assert re.search(rf'<input[^>]*id="{setting}"[^>]*type="checkbox"', html)
    edit = f"/admin/contests/{contest.id}/edit"
    assert client.post(edit, data=contest_form(**{setting: "y"}), headers=EN).status_code == 302
    db.expire_all()
    assert getattr(contest, setting) is True
    assert client.post(edit, data=contest_form(), headers=EN).status_code == 302
    db.expire_all()
    assert getattr(contest, setting) is False


def test_saving_unchanged_contest_keeps_exact_instants(client, db, contest, organizer):
    """The form shows minutes; a save that leaves a time as shown keeps the stored seconds."""
    before = snapshot(db, contest)
    assert before["submission_opens_at"].second or before["submission_opens_at"].microsecond
    values = contest_settings(contest)
    form = {
        name: value.strftime("%Y-%m-%dT%H:%M") if isinstance(value, datetime) else value
        for name, value in values.items()
        if value is not False  # a browser leaves an unticked box out
    }
    form["max_entries_per_person"] = ""
    form["is_published"] = "y"
    form["min_entrant_age"] = str(form["min_entrant_age"])
    # Browsers send text areas with CRLF line ends.
    form["rules_vi"] = form["rules_vi"].replace("\n", "\r\n")
    log_in(client, organizer)
    assert client.post(f"/admin/contests/{contest.id}/edit", data=form).status_code == 302
    assert snapshot(db, contest) == before


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"submission_closes_at": "2025-05-31T23:00"},
            "submission_closes_at",
            "Submission must close after it opens.",
        ),
        ({"voting_closes_at": "2025-09-01T08:00"}, "voting_closes_at", "Voting must close after it opens."),
        ({"title_vi": "  "}, "title_vi", "This field is required."),
        ({"code_prefix": "HN A"}, "code_prefix", "Use 2 to 12 capital letters or digits"),
        ({"min_entrant_age": "121"}, "min_entrant_age", "Number must be between 0 and 120."),
        ({"max_entries_per_person": "0"}, "max_entries_per_person", "Number must be at least 1."),
        ({"voting_opens_at": "tomorrow"}, "voting_opens_at", "Not a valid datetime value."),
        ({"vote_policy": "daily_quota"}, "votes_per_day", "Enter how many votes an account has each day."),
        ({"vote_policy": "twice"}, "vote_policy", "Not a valid choice."),
        ({"audience_prize_places": "-1"}, "audience_prize_places", "Number must be between 0 and 10."),
    ],
)
def test_invalid_contest_settings_change_nothing(client, db, contest, organizer, changes, field, message):
    before = snapshot(db, contest)
    log_in(client, organizer)
    response = client.post(
        f"/admin/contests/{contest.id}/edit",
        data=contest_form(title_en="Should not be saved", **changes),
        headers=EN,
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    # The message sits in the field's own block, right after its input.
    block = html.split(f'id="{field}"', 1)[1].split('<div class="field', 1)[0]
    assert message in block
    assert snapshot(db, contest) == before


def test_code_prefix_must_be_unique(client, db, contest, organizer):
    other = Contest(
        slug="other",
        code_prefix="OTHER",
        title_vi="Khác",
        title_en="Other",
        submission_opens_at=datetime(2024, 1, 1, tzinfo=UTC),
        submission_closes_at=datetime(2024, 2, 1, tzinfo=UTC),
        voting_opens_at=datetime(2024, 1, 1, tzinfo=UTC),
        voting_closes_at=datetime(2024, 2, 1, tzinfo=UTC),
    )
    db.add(other)
    db.commit()
    before = snapshot(db, contest)
    log_in(client, organizer)
    response = client.post(
        f"/admin/contests/{contest.id}/edit", data=contest_form(code_prefix="other"), headers=EN
    )
    assert response.status_code == 400
    assert "Another contest already uses this code prefix." in response.get_data(as_text=True)
    assert snapshot(db, contest) == before


def test_code_prefix_is_read_only_once_there_are_entries(client, db, contest, organizer, entrant):
    make_entry(db, contest, contest.categories[0], entrant, 1, EntryStatus.pending_review)
    log_in(client, organizer)
    page = client.get(f"/admin/contests/{contest.id}/edit", headers=EN).get_data(as_text=True)
    assert re.search(r'<input[^>]*id="code_prefix"[^>]*readonly', page)

    before = snapshot(db, contest)
    response = client.post(
        f"/admin/contests/{contest.id}/edit", data=contest_form(code_prefix="NEW25"), headers=EN
    )
    assert response.status_code == 400
    assert "The code prefix cannot change once the contest has entries." in response.get_data(as_text=True)
    assert snapshot(db, contest) == before

    # The unchanged prefix is fine: the rest of the settings are saved.
    response = client.post(f"/admin/contests/{contest.id}/edit", data=contest_form(title_en="Renamed"))
    assert response.status_code == 302
    db.expire_all()
    assert (contest.title_en, contest.code_prefix) == ("Renamed", "HNA25")


# --- category rules -------------------------------------------------------------------
def test_category_sizes_are_entered_in_mb_and_stored_in_bytes(client, db, contest, organizer):
    photo = category_of(contest, CategoryKind.photo)
    log_in(client, organizer)
    page = client.get(f"/admin/categories/{photo.id}/edit", headers=EN).get_data(as_text=True)
    assert re.search(r'id="min_mb"[^>]*value="3"', page)
    assert 'name="max_duration_s"' not in page
    assert 'name="min_items"' not in page

    response = client.post(
        f"/admin/categories/{photo.id}/edit",
        data=category_form(
            CategoryKind.photo,
            min_mb="3",
            max_mb="45.5",
            allowed_formats=["jpeg", "heif"],
            works_until="2025-09-30",
        ),
        headers=EN,
    )
    assert response.status_code == 302
    db.expire_all()
    assert (photo.min_bytes, photo.max_bytes) == (3_000_000, 45_500_000)
    assert photo.allowed_formats == ["jpeg", "heif"]
    assert photo.works_until == date(2025, 9, 30)
    page = client.get(f"/admin/categories/{photo.id}/edit", headers=EN).get_data(as_text=True)
    assert re.search(r'id="max_mb"[^>]*value="45.5"', page)


@pytest.mark.parametrize(
    ("kind", "changes", "field", "message"),
    [
        (
            CategoryKind.photo,
            {"min_mb": "5", "max_mb": "4"},
            "max_mb",
            "The maximum size must not be smaller than the minimum size.",
        ),
        (CategoryKind.photo, {"allowed_formats": []}, "allowed_formats", "Choose at least one format."),
        (CategoryKind.photo, {"allowed_formats": ["mp4"]}, "allowed_formats", "is not a valid choice"),
        (
            CategoryKind.photo,
            {"works_from": "2025-10-02"},
            "works_until",
            "The last date must not be before the first date.",
        ),
        (CategoryKind.photo, {"name_en": ""}, "name_en", "This field is required."),
        (CategoryKind.photo, {"min_mb": "-1"}, "min_mb", "Number must be at least 0."),
        (CategoryKind.video, {"allowed_formats": ["jpeg"]}, "allowed_formats", "is not a valid choice"),
        (
            CategoryKind.video,
            {"max_duration_s": "0"},
            "max_duration_s",
            "Number must be between 1 and 86400.",
        ),
        (
            CategoryKind.photo_series,
            {"min_items": "6", "max_items": "5"},
            "max_items",
            "The maximum must not be smaller than the minimum.",
        ),
        (CategoryKind.photo_series, {"min_items": "0"}, "min_items", "Number must be at least 1."),
    ],
)
def test_invalid_category_rules_change_nothing(client, db, contest, organizer, kind, changes, field, message):
    category = category_of(contest, kind)
    before = snapshot(db, category)
    log_in(client, organizer)
    response = client.post(
        f"/admin/categories/{category.id}/edit",
        data=category_form(kind, name_vi="Không lưu", **changes),
        headers=EN,
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html.split(f'id="{field}', 1)[1].split('<div class="field', 1)[0]
    assert snapshot(db, category) == before


def test_video_category_edits_duration_and_formats(client, db, contest, organizer):
    video = category_of(contest, CategoryKind.video)
    log_in(client, organizer)
    page = client.get(f"/admin/categories/{video.id}/edit", headers=EN).get_data(as_text=True)
    assert re.search(r'id="max_duration_s"[^>]*value="300"', page)
    assert 'value="mov"' in page and 'value="jpeg"' not in page

    response = client.post(
        f"/admin/categories/{video.id}/edit",
        data=category_form(
            CategoryKind.video, allowed_formats=["mov", "mp4"], max_duration_s="240", max_mb="150"
        ),
    )
    assert response.status_code == 302
    db.expire_all()
    assert video.allowed_formats == ["mp4", "mov"]
    assert (video.max_duration_s, video.max_bytes, video.min_bytes) == (240, 150_000_000, None)


def test_photo_series_edits_item_counts(client, db, contest, organizer):
    series = category_of(contest, CategoryKind.photo_series)
    log_in(client, organizer)
    response = client.post(
        f"/admin/categories/{series.id}/edit",
        data=category_form(CategoryKind.photo_series, name_en="Photo story", min_items="4", max_items="8"),
    )
    assert response.status_code == 302
    db.expire_all()
    assert (series.name_en, series.min_items, series.max_items) == ("Photo story", 4, 8)


def test_vote_settings_are_saved_and_locked_once_votes_exist(client, db, contest, organizer, entrant):
    from contest.contests.models import VoteCountDisplay, VotePolicy
    from contest.voting.models import Vote

    log_in(client, organizer)
    form = contest_form(vote_policy="daily_quota", votes_per_day="5", vote_counts="after_close")
    assert client.post(f"/admin/contests/{contest.id}/edit", data=form).status_code == 302
    db.expire_all()
    assert (contest.vote_policy, contest.votes_per_day, contest.vote_counts) == (
        VotePolicy.daily_quota,
        5,
        VoteCountDisplay.after_close,
    )
    entry = make_entry(db, contest, contest.categories[0], entrant, 1, EntryStatus.approved)
    db.add(
        Vote(
            contest_id=contest.id,
            entry_id=entry.id,
            voter_id=entrant.id,
            day=date(2025, 9, 2),
            period="",
            slot=1,
        )
    )
    db.commit()
    response = client.post(
        f"/admin/contests/{contest.id}/edit", data=contest_form(vote_policy="once_per_entry"), headers=EN
    )
    assert response.status_code == 400
    assert "The voting rules cannot change once votes have been cast." in response.get_data(as_text=True)
    db.expire_all()
    assert contest.vote_policy is VotePolicy.daily_quota
    # the other vote settings may still change
    form = contest_form(vote_policy="daily_quota", votes_per_day="5", vote_counts="live")
    assert client.post(f"/admin/contests/{contest.id}/edit", data=form).status_code == 302
    db.expire_all()
    assert contest.vote_counts is VoteCountDisplay.live
