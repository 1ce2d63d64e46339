"""The organizers' figures (/admin/figures) against hand-counted data, their CSV files, the
visit beacon (no cookie, nothing of the visitor kept), access, and the page on a phone."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import inspect, select

from contest import create_app
from contest.auth.models import Role
from contest.contests.demo import build_demo_contest
from contest.contests.models import CategoryKind
from contest.entries.models import Entry, EntryStatus
from contest.extensions import db as db_ext
from contest.figures import services
from contest.figures.models import PageVisit, VisitKind, VisitSource
from contest.geo.province import GpsCheck
from contest.processing.models import JobKind, JobState, ProcessingJob
from contest.voting.models import Vote
from tests.browser import live_server
from tests.support import PASSWORD, category, create_user, log_in, make_test_config, migrate, place, vn

EN = {"Accept-Language": "en"}
NOW = datetime(2025, 6, 3, 5, 0, tzinfo=UTC)


def entry(db, contest, author, submitted_at, *, kind=CategoryKind.photo, place_code="vinh", **fields):
    made = Entry(
        code=contest.next_entry_code(db),
        contest_id=contest.id,
        category_id=category(contest, kind).id,
        author_id=author.id,
        place_id=place(contest, place_code).id,
        title=fields.pop("title", "Sen quê Bác"),
        taken_on=date(2025, 4, 1),
        status=fields.pop("status", EntryStatus.approved),
        submitted_at=submitted_at,
        **fields,
    )
    db.add(made)
    db.flush()
    return made


def vote(db, contest, voted, voter, day: date, *, voided=False):
    db.add(
        Vote(
            contest_id=contest.id,
            entry_id=voted.id,
            voter_id=voter.id,
            day=day,
            period=day.isoformat(),
            voided_at=NOW if voided else None,
            void_reason="ring" if voided else None,
        )
    )


def job(db, of, state, created_s_ago, took_s=None):
    made = NOW - timedelta(seconds=created_s_ago)
    db.add(
        ProcessingJob(
            entry_id=of.id,
            kind=JobKind.photo,
            state=state,
            created_at=made,
            finished_at=made + timedelta(seconds=took_s) if took_s is not None else None,
        )
    )


@pytest.fixture
def counted(db, contest):
    """A small edition counted by hand: see each test for what it should show."""
    contest.submission_opens_at, contest.submission_closes_at = vn(2025, 4, 1), vn(2025, 5, 31)
    contest.voting_opens_at, contest.voting_closes_at = vn(2025, 5, 15), vn(2025, 8, 1)
    contest.results_at = vn(2025, 8, 15)
    people = {
        name: create_user(db, f"{name}@example.com", country=country, created_at=created)
        for name, country, created in [
            ("a1", "VN", vn(2025, 4, 20, 10)),
            ("a2", "VN", vn(2025, 4, 20, 10)),
            ("a3", "VN", vn(2025, 4, 21, 6, 59)),  # 23:59 UTC the day before: the 21st in Vietnam
            ("a4", "JP", vn(2025, 4, 21, 12)),
            ("a5", "US", vn(2025, 4, 21, 12)),
            ("v1", "VN", vn(2025, 5, 31, 8)),
            ("v2", "VN", vn(2025, 5, 31, 8)),
            ("v3", "VN", vn(2025, 5, 31, 8)),
            ("old", "VN", vn(2025, 2, 1)),  # before the edition's window
        ]
    }
    made = {
        "A": entry(db, contest, people["a1"], vn(2025, 5, 1, 23, 30), vote_count=4),
        # 00:10 in Vietnam is 17:10 UTC on the 1st: the 2nd here.
        "B": entry(
            db, contest, people["a1"], vn(2025, 5, 2, 0, 10), kind=CategoryKind.video, place_code="nam-dan"
        ),
        "C": entry(db, contest, people["a2"], vn(2025, 5, 2, 9), vote_count=7, title="Biển Cửa Lò"),
        "D": entry(
            db,
            contest,
            people["a3"],
            vn(2025, 5, 2, 10),
            place_code="nam-dan",
            status=EntryStatus.rejected,
            vote_count=9,
        ),
        "E": entry(db, contest, people["a4"], vn(2025, 5, 3, 8), vote_count=1),
        "F": entry(db, contest, people["a5"], vn(2025, 5, 3, 9), kind=CategoryKind.video),
        "G": entry(db, contest, people["a5"], None, status=EntryStatus.draft),  # never submitted
    }
    made["A"].gps_check, made["B"].gps_check, made["C"].gps_check = (
        GpsCheck.inside,
        GpsCheck.outside,
        GpsCheck.absent,
    )
    for voter in ("v1", "v2", "v3"):
        vote(db, contest, made["A"], people[voter], date(2025, 6, 1), voided=voter == "v3")
    for voter in ("v1", "v2"):
        vote(db, contest, made["C"], people[voter], date(2025, 6, 2))
    job(db, made["A"], JobState.succeeded, 600, took_s=180)
    job(db, made["C"], JobState.succeeded, 900, took_s=60)
    job(db, made["E"], JobState.failed, 400)
    job(db, made["F"], JobState.queued, 300)
    job(db, made["B"], JobState.running, 100)
    for code, kind, source, n, day in [
        ("A", VisitKind.visit, VisitSource.facebook, 5, date(2025, 6, 1)),
        ("A", VisitKind.visit, VisitSource.facebook, 2, date(2025, 6, 2)),
        ("A", VisitKind.visit, VisitSource.zalo, 3, date(2025, 6, 2)),
        ("A", VisitKind.visit, VisitSource.direct, 1, date(2025, 6, 2)),
        ("A", VisitKind.share, VisitSource.facebook, 2, date(2025, 6, 2)),
        ("A", VisitKind.share, VisitSource.other, 1, date(2025, 6, 2)),
        ("C", VisitKind.visit, VisitSource.other, 4, date(2025, 6, 2)),
    ]:
        db.add(PageVisit(entry_id=made[code].id, kind=kind, source=source, count=n, day=day))
    db.commit()
    return made


def figure(app, db, contest, key, **kwargs):
    with app.test_request_context(headers=EN):
        return services.FIGURES[key](db, contest, **kwargs)


def test_entries_per_day_by_category_in_vietnam_days(app, db, contest, counted):
    found = figure(app, db, contest, "entries-per-day")
    with app.test_request_context(headers=EN):
        photo, video = (category(contest, kind).name for kind in (CategoryKind.photo, CategoryKind.video))
    columns = dict.fromkeys(found.columns[1:-2], 0)
    assert found.columns[0] == "Day" and found.columns[-2:] == ["Total", "Cumulative"]
    expected = {
        date(2025, 5, 1): {photo: 1},
        date(2025, 5, 2): {photo: 2, video: 1},
        date(2025, 5, 3): {photo: 1, video: 1},
    }
    assert [row[0] for row in found.rows] == list(expected)
    for row, (day, counts) in zip(found.rows, expected.items(), strict=True):
        assert dict(zip(columns, row[1:-2], strict=True)) == columns | counts, day
    assert [row[-2:] for row in found.rows] == [[1, 1], [3, 4], [2, 6]]
    assert found.chart["labels"] == ["2025-05-01", "2025-05-02", "2025-05-03"]
    assert found.chart["datasets"][-1]["data"] == [1, 4, 6]


def test_entries_by_category_cumulative(app, db, contest, counted):
    """Each category's running total per day (hand-counted: photos 1, 3, 4; videos 0, 1, 2)."""
    found = figure(app, db, contest, "entries-cumulative")
    with app.test_request_context(headers=EN):
        names = [c.name for c in contest.categories]
        photo, video = (category(contest, kind).name for kind in (CategoryKind.photo, CategoryKind.video))
    assert found.columns == ["Day", *names, "Total"]
    by_name = {name: [row[1 + i] for row in found.rows] for i, name in enumerate(names)}
    assert by_name[photo] == [1, 3, 4] and by_name[video] == [0, 1, 2]
    assert all(series == [0, 0, 0] for name, series in by_name.items() if name not in (photo, video))
    assert [row[0] for row in found.rows] == [date(2025, 5, 1), date(2025, 5, 2), date(2025, 5, 3)]
    assert [row[-1] for row in found.rows] == [1, 4, 6]
    assert found.chart["type"] == "line"
    assert [d["label"] for d in found.chart["datasets"]] == [*names, "Total"]
    assert [d["data"] for d in found.chart["datasets"]] == [*by_name.values(), [1, 4, 6]]


def test_entries_cumulative_csv(client, contest, counted, organizer):
    log_in(client, organizer)
    text = client.get(f"/admin/figures/entries-cumulative.csv?contest={contest.id}", headers=EN).get_data(
        as_text=True
    )
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "Day" and rows[0][-1] == "Total"
    assert [row[0] for row in rows[1:]] == ["2025-05-01", "2025-05-02", "2025-05-03"]
    assert [row[-1] for row in rows[1:]] == ["1", "4", "6"]


def test_entrants_by_country_and_the_foreign_share(app, db, contest, counted):
    found = figure(app, db, contest, "entrants-by-country")
    assert found.rows == [["Vietnam", "VN", 3, 4], ["Japan", "JP", 1, 1], ["United States", "US", 1, 1]]
    assert found.summary == [("Entrants", 5), ("From abroad", 2), ("Foreign share", "40.0%")]


def test_entries_by_place_lists_every_place(app, db, contest, counted):
    found = dict(figure(app, db, contest, "entries-by-place").rows)
    assert found["Vinh City"] == 4 and found["Nam Dan District"] == 2
    assert len(found) == len(contest.places) and sum(found.values()) == 6


def test_votes_per_day_and_the_share_voided(app, db, contest, counted):
    found = figure(app, db, contest, "votes-per-day")
    assert found.rows == [[date(2025, 6, 1), 3, 1, "33.3%"], [date(2025, 6, 2), 2, 0, "0.0%"]]
    assert found.summary == [("Votes", 5), ("Voided", 1), ("Share voided", "20.0%")]


def test_accounts_per_day_in_the_editions_window(app, db, contest, counted):
    found = figure(app, db, contest, "accounts-per-day")
    assert found.rows == [[date(2025, 4, 20), 2, 2], [date(2025, 4, 21), 3, 5], [date(2025, 5, 31), 3, 8]]


def test_top_entries_are_public_ones_by_valid_votes(app, db, contest, counted):
    found = figure(app, db, contest, "top-entries")
    assert [row[0] for row in found.rows] == [counted[c].code for c in ("C", "A", "E", "B", "F")]
    assert [row[3] for row in found.rows] == [7, 4, 1, 0, 0]


def test_visits_and_shares_by_source(app, db, contest, counted):
    found = figure(app, db, contest, "visits-by-source")
    assert [row[1:] for row in found.rows] == [[7, 2], [3, 0], [1, 0], [4, 1]]


def test_processing_queue_health(app, db, contest, counted):
    found = figure(app, db, contest, "processing-queue", now=NOW)
    assert dict(found.rows) == {"Waiting": 1, "Waiting to retry": 0, "Running": 1, "Failed": 1, "Done": 2}
    assert [value for _, value in found.summary] == ["1 min 00 s", "3 min 00 s", "5 min 00 s"]


def test_gps_inside_outside_and_absent(app, db, contest, counted):
    found = figure(app, db, contest, "gps-check")
    assert [row[1] for row in found.rows] == [1, 1, 1, 3]  # D, E, F not checked; G never submitted
    assert found.summary[0][1] == "50.0%"


def test_the_page_shows_every_figure_with_its_table(client, contest, counted, organizer):
    log_in(client, organizer)
    response = client.get("/admin/figures", headers=EN)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for key in services.FIGURES:
        assert f'id="{key}"' in page and f"/admin/figures/{key}.csv?contest={contest.id}" in page
    assert page.count("<canvas") == len(services.FIGURES) and page.count('<table class="data">') == len(
        services.FIGURES
    )
    assert "40.0%" in page and "vendor/chartjs/chart.umd.min.js" in page


def test_a_contest_with_nothing_yet(client, contest, organizer):
    log_in(client, organizer)
    response = client.get(f"/admin/figures?contest={contest.id}", headers=EN)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Nothing to count yet." in page
    votes = client.get(f"/admin/figures/votes-per-day.csv?contest={contest.id}", headers=EN)
    assert votes.get_data(as_text=True) == "\ufeffDay,Votes,Voided,Share voided\r\n"


def test_csv_download(client, contest, counted, organizer):
    log_in(client, organizer)
    response = client.get(f"/admin/figures/entrants-by-country.csv?contest={contest.id}", headers=EN)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="{contest.slug}-entrants-by-country.csv"'
    )
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [
        ["Country", "Code", "Entrants", "Entries"],
        ["Vietnam", "VN", "3", "4"],
        ["Japan", "JP", "1", "1"],
        ["United States", "US", "1", "1"],
    ]
    days = client.get(f"/admin/figures/votes-per-day.csv?contest={contest.id}", headers=EN).get_data(
        as_text=True
    )
    assert days.splitlines()[1] == "2025-06-01,3,1,33.3%"


@pytest.mark.parametrize(
    "url", ["/admin/figures?contest=abc", "/admin/figures?contest=999999", "/admin/figures/nothing.csv"]
)
def test_bad_requests_say_so(client, contest, organizer, url):
    log_in(client, organizer)
    assert client.get(url, headers=EN).status_code in (400, 404)


# --- visits -----------------------------------------------------------------------------------
def counters(db) -> dict:
    db.expire_all()
    return {(v.kind, v.source): v.count for v in db.scalars(select(PageVisit))}


@pytest.mark.parametrize(
    ("fields", "counted_as"),
    [
        ({"kind": "visit", "src": "facebook"}, (VisitKind.visit, VisitSource.facebook)),
        (
            {"kind": "visit", "ref": "https://l.facebook.com/l.php?u=x"},
            (VisitKind.visit, VisitSource.facebook),
        ),
        ({"kind": "visit", "src": "zalo", "ref": ""}, (VisitKind.visit, VisitSource.zalo)),
        ({"kind": "visit", "ref": "https://chat.zalo.me/"}, (VisitKind.visit, VisitSource.zalo)),
        ({"kind": "visit", "ref": ""}, (VisitKind.visit, VisitSource.direct)),
        ({"kind": "visit", "ref": "http://localhost/gallery"}, (VisitKind.visit, VisitSource.direct)),
        ({"kind": "visit", "ref": "https://www.google.com/"}, (VisitKind.visit, VisitSource.other)),
        ({"kind": "share", "src": "zalo"}, (VisitKind.share, VisitSource.zalo)),
        ({"kind": "share", "src": "link"}, (VisitKind.share, VisitSource.other)),
    ],
)
def test_a_visit_is_counted_by_source_without_cookie_or_address(
    app, client, db, contest, entrant, fields, counted_as
):
    shown = entry(db, contest, entrant, NOW)
    db.commit()
    app.config["PUBLIC_BASE_URL"], base = "http://localhost", app.config["PUBLIC_BASE_URL"]
    try:
        first = client.post(
            f"/e/{shown.code}/visit", data=fields, environ_base={"REMOTE_ADDR": "203.0.113.9"}
        )
        second = client.post(f"/e/{shown.code}/visit", data=fields)
    finally:
        app.config["PUBLIC_BASE_URL"] = base
    assert first.status_code == second.status_code == 204
    assert "Set-Cookie" not in first.headers and "Set-Cookie" not in second.headers
    assert counters(db) == {counted_as: 2}
    # A counter, nothing of the visitor: no address, agent, account or cookie column.
    assert {c.name for c in inspect(PageVisit).columns} == {"entry_id", "day", "kind", "source", "count"}


def test_only_public_entries_and_known_kinds_are_counted(client, db, contest, entrant):
    hidden = entry(db, contest, entrant, NOW, status=EntryStatus.pending_review)
    shown = entry(db, contest, entrant, NOW)
    db.commit()
    assert client.post(f"/e/{hidden.code}/visit", data={"kind": "visit"}).status_code == 404
    assert client.post("/e/NOPE-0001/visit", data={"kind": "visit"}).status_code == 404
    assert client.post(f"/e/{shown.code}/visit", data={"kind": "like"}).status_code == 400
    assert client.get(f"/e/{shown.code}/visit").status_code == 405
    assert counters(db) == {}


def test_the_entry_page_sends_its_beacon_and_shares_name_their_channel(client, db, contest, entrant):
    shown = entry(db, contest, entrant, NOW)
    db.commit()
    page = client.get(f"/e/{shown.code}", headers=EN).get_data(as_text=True)
    assert f'data-visit-url="/e/{shown.code}/visit"' in page and "js/visit.js" in page
    assert "%3Fsrc%3Dfacebook" in page and f'/e/{shown.code}?src=zalo"' in page


# --- access -----------------------------------------------------------------------------------
ROUTES = [
    "/admin/figures",
    "/admin/figures?contest={contest}",
    "/admin/figures/entries-per-day.csv?contest={contest}",  # one route for every figure's CSV
    "/admin/figures/visits-by-source.csv",
]


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


@pytest.mark.parametrize("role", ["anonymous", "entrant", "judge", "organizer"])
def test_anyone_may_send_the_beacon(request, client, db, contest, entrant, role):
    shown = entry(db, contest, entrant, NOW)
    db.commit()
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    assert client.post(f"/e/{shown.code}/visit", data={"kind": "visit"}).status_code == 204


# --- in a browser -------------------------------------------------------------------------------
@pytest.mark.browser
def test_the_figures_on_a_phone(tmp_path, browser_page):
    """390 px wide in headless Chromium: every chart drawn, nothing wider than the screen, no
    script error or policy violation; an entry page's visit reaches the counters."""
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        session = db_ext.session
        contest, _ = build_demo_contest(session)
        create_user(session, "btc@example.com", role=Role.organizer, birth_year=None, locale="en")
        author = create_user(session, "tac.gia@example.com", country="FR")
        shown = entry(session, contest, author, datetime.now(UTC) - timedelta(days=1))
        vote(session, contest, shown, author, date.today())
        session.commit()
        code = shown.code
    page = browser_page.page
    try:
        with live_server(app) as url:
            page.goto(f"{url}/e/{code}?src=zalo", wait_until="load")
            page.goto(f"{url}/account/login", wait_until="load")
            page.fill("input[name=email]", "btc@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.locator("form [type=submit]").last.click()
            page.wait_for_load_state("load")
            page.goto(f"{url}/admin/figures", wait_until="load")
            drawn = page.evaluate(
                "() => Array.from(document.querySelectorAll('canvas[data-chart]'))"
                ".map(c => !!window.Chart.getChart(c) && c.width > 0)"
            )
            assert drawn == [True] * len(services.FIGURES)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            sources = page.locator("#visits-by-source tbody tr").all_inner_texts()
            assert any(row.startswith("Zalo") and "\t1\t" in row + "\t" for row in sources), sources
        assert browser_page.problems() == []
    finally:
        app.extensions["db"].dispose()
