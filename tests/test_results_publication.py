"""Publication at a set time with nothing leaking before: every role, every public surface,
before and after the worker's task; the winners' e-mails (once each); the audit; the digests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from contest import create_app
from contest.audit.models import AuditEvent
from contest.auth.models import Role
from contest.contests.demo import build_demo_contest
from contest.db import now_utc
from contest.extensions import db as db_ext
from contest.mail.models import OutboundEmail
from contest.results import awards, publication
from contest.results.prizes import Publication, PublicationState
from contest.results.readout import ranking_digest, round_sheet
from contest.results.tally import tally
from contest.storage import get_storage
from tests.browser import PHONE, live_server
from tests.prize_support import scored_contest
from tests.support import PASSWORD, create_user, log_in, make_test_config, migrate
from tests.test_gallery import add_photo_renditions
from worker.tasks import publish_results

PRIZE_NAMES = ("First prize", "Giải Nhất", "Second prize", "Giải Nhì", "Third prize", "Giải Ba")


@pytest.fixture
def frozen(db, contest, storage):
    """The photo category's six places given from the tally and frozen; the winners' photos
    have renditions; the first winner reads English, the others Vietnamese."""
    prizes = scored_contest(db, contest)
    for entry in prizes.ranked[:6]:
        add_photo_renditions(db, storage, entry)
    prizes.ranked[0].author.locale = "en"
    awards.accept_proposals(db, contest, actor_id=prizes.jury.organizer.id)
    publication.freeze(db, contest, actor_id=prizes.jury.organizer.id)
    db.commit()
    return prizes


@pytest.fixture
def clients(app, db, frozen):
    """A client per role: anonymous, the winner, a voter, a judge and an organizer (their
    public view), each in English."""
    voter = create_user(db, "nguoi.binh.chon@example.com")
    users = {
        "winner": frozen.ranked[0].author,
        "voter": voter,
        "judge": frozen.jury.judges[1],
        "organizer": frozen.jury.organizer,
    }
    db.commit()
    made = {"anonymous": app.test_client()}
    for role, user in users.items():
        made[role] = app.test_client()
        log_in(made[role], user)
    return made


def run_worker_task(app) -> None:
    """The beat's task, as the worker runs it (in this test's application and database)."""
    with app.app_context():
        publish_results()


def _surfaces(client, winner) -> dict[str, tuple[int, str]]:
    """Every public surface that could show a prize, as (status, text)."""
    found = {}
    for name, path in {
        "results": "/results",
        "gallery": "/gallery",
        "entry": f"/e/{winner.code}",
        "status_json": f"/entries/{winner.code}/status.json",
    }.items():
        response = client.get(path, headers={"Accept-Language": "en"})
        found[name] = (response.status_code, response.get_data(as_text=True))
    return found


def _shows_a_prize(text: str) -> bool:
    return "prize-ribbon" in text or any(name in text for name in PRIZE_NAMES)


def test_nothing_leaks_before_the_time_and_everything_shows_after(app, db, contest, frozen, clients):
    winner = frozen.ranked[0]
    publication.schedule(db, contest, now_utc() + timedelta(hours=1), actor_id=frozen.jury.organizer.id)
    db.commit()
    run_worker_task(app)  # too early: nothing happens
    for role, client in clients.items():
        for surface, (_status, text) in _surfaces(client, winner).items():
            assert not _shows_a_prize(text), (role, surface)
        assert client.get("/results").status_code == 404
        assert "not published yet" in client.get("/results", headers={"Accept-Language": "en"}).text

    db.execute(update(Publication).values(publish_at=now_utc() - timedelta(seconds=1)))
    db.commit()
    run_worker_task(app)  # the worker's beat, past the time
    db.expire_all()
    assert db.get(Publication, contest.id).state is PublicationState.published
    for role, client in clients.items():
        seen = _surfaces(client, winner)
        assert seen["results"][0] == 200, role
        for surface in ("results", "gallery", "entry"):
            assert "prize-ribbon" in seen[surface][1] and "First prize" in seen[surface][1], (role, surface)
        assert winner.code in seen["results"][1] and winner.author.full_name in seen["results"][1]
        assert "<img" in seen["results"][1]  # the winners' display renditions
        assert not _shows_a_prize(seen["status_json"][1])  # the author's status JSON names no prize


def test_the_public_reader_answers_nothing_before_publication(app_ctx, db, contest, frozen):
    assert publication.public_awards(db, contest.id) == {}
    publication.publish_now(db, contest, actor_id=frozen.jury.organizer.id)
    db.flush()
    found = publication.public_awards(db, contest.id)
    assert set(found) == {e.id for e in frozen.ranked[:6]}
    assert [p.name_en for p in found[frozen.ranked[0].id]] == ["First prize"]
    # Asked about a moment before the publication: nothing.
    assert publication.public_awards(db, contest.id, now_utc() - timedelta(minutes=1)) == {}


def _mails(db, email: str) -> list[OutboundEmail]:
    return list(db.scalars(select(OutboundEmail).where(OutboundEmail.recipient == email)))


def test_the_task_run_twice_tells_each_winner_once_in_their_language(app, db, contest, frozen):
    publication.schedule(db, contest, now_utc() + timedelta(minutes=5), actor_id=frozen.jury.organizer.id)
    db.execute(update(Publication).values(publish_at=now_utc() - timedelta(seconds=1)))
    db.commit()
    run_worker_task(app)
    run_worker_task(app)
    with app.app_context():
        publication.publish_due(db)  # and once more by hand
        publication.tell_winners(db, contest)
    db.commit()
    # The first three entries are one entrant's (English), the next three another's (Vietnamese).
    first, fourth = frozen.ranked[0], frozen.ranked[3]
    english = _mails(db, first.author.email)
    assert len(english) == 3  # one per prize
    [mail] = [m for m in english if first.code in m.subject]
    assert mail.subject.startswith(f"Your entry {first.code} wins First prize")
    assert first.title in mail.body_text and "/results" in mail.body_text
    vietnamese = _mails(db, fourth.author.email)
    assert len(vietnamese) == 3
    [mail] = [m for m in vietnamese if fourth.code in m.subject]
    assert mail.subject.startswith(f"Tác phẩm {fourth.code} của bạn đoạt Giải Ba")
    assert "Xin chúc mừng!" in mail.body_text
    total = db.scalars(select(OutboundEmail).where(OutboundEmail.subject.contains("HNA25-"))).all()
    assert len(total) == 6


def test_publication_steps_are_audited_and_the_digests_published(app, db, contest, frozen):
    digest = ranking_digest(tally(round_sheet(db, frozen.round.id)[0]))
    assert publication.published_digest(db, frozen.round.id) is None  # recorded, not public yet
    publication.schedule(db, contest, now_utc() + timedelta(minutes=5), actor_id=frozen.jury.organizer.id)
    db.execute(update(Publication).values(publish_at=now_utc() - timedelta(seconds=1)))
    db.commit()
    run_worker_task(app)
    assert publication.published_digest(db, frozen.round.id) == digest
    events = db.execute(
        select(AuditEvent.action, AuditEvent.actor_id)
        .where(AuditEvent.contest_id == contest.id, AuditEvent.action.like("results.%"))
        .order_by(AuditEvent.id)
    ).all()
    organizer = frozen.jury.organizer.id
    assert events == [
        ("results.frozen", organizer),
        ("results.scheduled", organizer),
        ("results.published", None),
    ]


def test_an_organizer_publishes_from_the_awards_page(app, db, contest, frozen):
    client = app.test_client()
    log_in(client, frozen.jury.organizer)
    base = f"/admin/results/contests/{contest.id}"
    past = client.post(f"{base}/schedule", data={"publish_at": "2020-01-01T08:00"}, follow_redirects=True)
    assert "Choose a time in the future." in past.text
    assert client.get("/results").status_code == 404
    page = client.post(f"{base}/publish", follow_redirects=True)
    assert "The results are published" in page.text
    assert client.get("/results").status_code == 200
    # Published is final: no unfreezing.
    refused = client.post(f"{base}/unfreeze", data={"reason": "Sửa"}, follow_redirects=True)
    assert "cannot take that step" in refused.text


def test_a_winner_changed_without_a_reason_is_refused_on_the_page(app, db, contest, frozen):
    client = app.test_client()
    log_in(client, frozen.jury.organizer)
    publication.unfreeze(db, contest, "Xem lại", actor_id=frozen.jury.organizer.id)
    db.commit()
    slot = frozen.first
    url = f"/admin/results/contests/{contest.id}/awards/{slot.id}/1"
    page = client.post(url, data={"code": frozen.ranked[9].code, "reason": ""}, follow_redirects=True)
    assert "Give a reason" in page.text
    db.expire_all()
    assert awards.contest_awards(db, contest.id)[(slot.id, 1)].entry_id == frozen.ranked[0].id
    page = client.post(
        url, data={"code": frozen.ranked[9].code, "reason": "Vi phạm thể lệ"}, follow_redirects=True
    )
    assert "The place is given." in page.text
    db.expire_all()
    assert awards.contest_awards(db, contest.id)[(slot.id, 1)].entry_id == frozen.ranked[9].id


@pytest.mark.parametrize("role", [Role.entrant, Role.judge])
def test_the_awards_page_is_for_organizers_only(app, db, contest, frozen, role):
    client = app.test_client()
    log_in(client, create_user(db, f"{role.value}-pub@example.com", role=role, birth_year=1990))
    db.commit()
    assert client.post(f"/admin/results/contests/{contest.id}/publish").status_code == 403
    assert client.get("/results").status_code == 404


def test_kept_public_pages_do_not_outlive_the_publication(app, db, contest, frozen, monkeypatch):
    """With the gallery's caches on, the pages kept before show the ribbons at once after: the
    publication moves the contest's public version on (contest.gallery.versions)."""
    monkeypatch.setitem(app.config, "GALLERY_CACHE_S", 3600)
    monkeypatch.setattr("contest.gallery.views.VERSION_CHECK_S", 0)
    caches = app.extensions["gallery_cache"]
    caches.clear()
    try:
        client, winner = app.test_client(), frozen.ranked[0]
        paths = ("/gallery", f"/e/{winner.code}")
        assert not any(_shows_a_prize(client.get(path).text) for path in paths)
        publication.schedule(db, contest, now_utc() + timedelta(minutes=5), actor_id=frozen.jury.organizer.id)
        db.execute(update(Publication).values(publish_at=now_utc() - timedelta(seconds=1)))
        db.commit()
        run_worker_task(app)
        assert all("prize-ribbon" in client.get(path).text for path in paths)
    finally:
        caches.clear()


def log_in_page(page, url: str, email: str) -> None:
    page.goto(f"{url}/account/login", wait_until="load")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("load")


@pytest.mark.browser
def test_an_organizer_publishes_on_a_phone_and_the_results_page_fits_it(tmp_path, browser_page):
    """In Chromium at 390 px, CSRF on: the organizer's awards page (a draft, with its change
    forms) and prize page fit the screen; Freeze, then Publish now; /results, the winner's entry
    page and the gallery show the pictures and ribbons, nothing wider than the screen, no CSP
    violation. Its own application on a migrated SQLite file, served over real HTTP."""
    config = make_test_config(tmp_path, f"sqlite:///{tmp_path / 'site.sqlite'}", WTF_CSRF_ENABLED=True)
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        session = db_ext.session
        contest, _ = build_demo_contest(session)
        prizes = scored_contest(session, contest)
        for entry in prizes.ranked[:6]:
            add_photo_renditions(session, get_storage(), entry)
        awards.accept_proposals(session, contest, actor_id=prizes.jury.organizer.id)
        session.commit()
    page = browser_page.page
    page.set_viewport_size(PHONE)
    admin = f"/admin/results/contests/{contest.id}"
    try:
        with live_server(app) as url:
            log_in_page(page, url, prizes.jury.organizer.email)
            for path in (f"{admin}/prizes", f"{admin}/awards"):
                page.goto(url + path, wait_until="load")
                assert page.url.endswith(path)  # the organizer's page itself, not the login form
                assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
            assert page.locator("form.award-change").count() == 6  # a draft: every place can change
            page.locator("form[action$='/freeze'] button").click()
            page.wait_for_load_state("load")
            page.locator("form[action$='/publish'] button").click()
            page.wait_for_load_state("load")
            assert page.locator(".results-state-published").count() == 1
            for path in ("/results", f"/e/{prizes.ranked[0].code}", "/gallery"):
                page.goto(url + path, wait_until="load")
                assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
                assert page.locator(".prize-ribbon").count() >= 1, path
            page.goto(url + "/results", wait_until="load")
            assert page.locator(".winner img").count() == 6
            assert browser_page.problems() == []
    finally:
        app.extensions["db"].dispose()


def test_the_worker_beat_runs_the_publication():
    from worker.celery_app import celery

    entry = celery.conf.beat_schedule["publish-results"]
    assert entry["task"] == "worker.publish_results" and entry["schedule"] <= 60
    assert celery.tasks["worker.publish_results"].name == publish_results.name == "worker.publish_results"
