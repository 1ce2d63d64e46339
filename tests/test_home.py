"""The home page: phase and countdown, featured photograph, prizes, access, cache, phone layout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from contest.audit.models import AuditEvent
from contest.contests.models import VoteCountDisplay
from contest.entries.models import AssetKind, Entry, EntryStatus
from contest.results.prizes import Award, PrizeSlot, Publication, PublicationState
from tests.support import log_in, make_entry, vn
from tests.test_gallery import add_photo_renditions, sql_statements

EN = {"Accept-Language": "en"}
VI = {"Accept-Language": "vi"}
NOW = vn(2027, 1, 21, 10)  # the countdowns below go to 2 February 2027, 17:00, Vietnam time
NEXT = vn(2027, 2, 2, 17)
DAY = timedelta(days=1)


@pytest.fixture
def now(monkeypatch):
    monkeypatch.setattr("contest.main.views.now_utc", lambda: NOW)
    return NOW


def set_dates(db, contest, submission, voting, results_at=None) -> None:
    contest.submission_opens_at, contest.submission_closes_at = submission
    contest.voting_opens_at, contest.voting_closes_at = voting
    contest.results_at = results_at
    db.commit()


def publish(db, contest, state=PublicationState.published) -> None:
    published_at = NOW - DAY if state is PublicationState.published else None
    db.add(
        Publication(contest_id=contest.id, state=state, frozen_at=NOW - 2 * DAY, published_at=published_at)
    )
    db.commit()


def home(client, headers=EN) -> str:
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# (phase, dates: submission, voting, results_at, published) -> what the page says, in English and Vietnamese
PHASES = {
    "upcoming": (
        ((NEXT, NEXT + 30 * DAY), (NEXT + DAY, NEXT + 60 * DAY), None),
        ("Coming soon", "Submissions open on 2 February 2027", "/rules"),
        ("Sắp khai mạc", "Bắt đầu nhận tác phẩm ngày 2 tháng 2, 2027", "/rules"),
    ),
    "submitting": (
        ((NOW - 30 * DAY, NEXT), (NEXT + DAY, NEXT + 60 * DAY), None),
        ("Submissions are open", "Submissions close on 2 February 2027", "/entries/new"),
        ("Đang nhận tác phẩm", "Hạn nhận tác phẩm: 2 tháng 2, 2027", "/entries/new"),
    ),
    "voting": (
        ((NOW - 60 * DAY, NOW - 30 * DAY), (NOW - 20 * DAY, NEXT), None),
        ("Public vote", "Voting closes on 2 February 2027", "/gallery"),
        ("Bình chọn công khai", "Kết thúc bình chọn ngày 2 tháng 2, 2027", "/gallery"),
    ),
    "judging": (
        ((NOW - 60 * DAY, NOW - 30 * DAY), (NOW - 20 * DAY, NOW - DAY), NEXT),
        ("The jury is judging", "Results on 2 February 2027", "/gallery"),
        ("Ban Giám khảo đang chấm", "Công bố kết quả ngày 2 tháng 2, 2027", "/gallery"),
    ),
}


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("phase", list(PHASES))
def test_the_phase_and_its_countdown_in_vietnam_time(client, db, contest, now, phase, lang):
    (submission, voting, results_at), english, vietnamese = PHASES[phase]
    set_dates(db, contest, submission, voting, results_at)
    label, milestone, cta = english if lang == "en" else vietnamese
    page = home(client, EN if lang == "en" else VI)
    assert f'home-phase-{phase}">{label}</p>' in page
    assert milestone in page
    assert ("<strong>12 days left</strong>" if lang == "en" else "<strong>còn 12 ngày</strong>") in page
    assert f'href="{cta}" data-home-cta' in page
    assert page.count("data-home-cta") == 1  # one call to action


@pytest.mark.parametrize(
    ("left", "english", "vietnamese"),
    [
        (timedelta(hours=5, minutes=30), "5 hours left", "còn 5 giờ"),
        (timedelta(hours=1), "1 hour left", "còn 1 giờ"),
        (timedelta(minutes=40), "40 minutes left", "còn 40 phút"),
        (timedelta(days=1, hours=2), "1 day left", "còn 1 ngày"),
    ],
)
def test_the_countdown_under_a_day_counts_hours(client, db, contest, now, left, english, vietnamese):
    set_dates(db, contest, (NOW - 30 * DAY, NOW + left), (NOW + 2 * DAY, NOW + 60 * DAY))
    assert f"<strong>{english}</strong>" in home(client, EN)
    assert f"<strong>{vietnamese}</strong>" in home(client, VI)


def test_the_judging_phase_without_a_results_date_has_no_countdown(client, db, contest, now):
    set_dates(db, contest, (NOW - 60 * DAY, NOW - 30 * DAY), (NOW - 20 * DAY, NOW - DAY))
    page = home(client)
    assert "The jury is judging" in page and "data-countdown" not in page


# --- prizes and results ----------------------------------------------------------------------
@pytest.fixture
def awarded(db, contest, organizer, entrant, storage) -> Entry:
    """The newest approved photo (on the strip), holding the photo category's 1st prize."""
    set_dates(db, contest, (NOW - 60 * DAY, NOW - 30 * DAY), (NOW - 20 * DAY, NOW - DAY), NEXT)
    winner = make_entry(db, contest, entrant, title="Bình minh Cửa Lò")
    add_photo_renditions(db, storage, winner)
    slot = db.scalars(
        select(PrizeSlot).where(
            PrizeSlot.contest_id == contest.id, PrizeSlot.category_id == winner.category_id
        )
    ).first()
    db.add(
        Award(
            slot_id=slot.id,
            kind=slot.kind,
            category_id=slot.category_id,
            place=1,
            entry_id=winner.id,
            proposed_entry_id=winner.id,
            assigned_by_id=organizer.id,
        )
    )
    db.commit()
    return winner


def test_no_winner_is_shown_before_the_results_are_published(client, db, contest, now, awarded):
    publish(db, contest, PublicationState.frozen)
    page = home(client)
    assert "Bình minh Cửa Lò" in page  # on the strip of latest entries
    assert "prize-ribbon" not in page and "/results" not in page
    assert "The jury is judging" in page
    # The prizes themselves are announced: the slots' names, per category and contest-wide.
    assert "First prize" in page and "Monthly vote prize" in page


def test_published_results_are_the_call_to_action(client, db, contest, now, awarded):
    publish(db, contest)
    page = home(client)
    assert 'home-phase-results">The results are out</p>' in page
    assert 'href="/results" data-home-cta' in page and "data-countdown" not in page


# --- the featured photograph -----------------------------------------------------------------
@pytest.fixture
def photos(db, contest, entrant, storage) -> list[Entry]:
    """Three approved photos with renditions, approved 30, 20 and 10 minutes ago."""
    found = []
    for minutes, title in ((30, "Đồi chè Thanh Chương"), (20, "Sông Lam"), (10, "Biển Cửa Lò")):
        entry = make_entry(db, contest, entrant, title=title, minutes_ago=minutes)
        add_photo_renditions(db, storage, entry)
        found.append(entry)
    return found


def hero_src(page: str) -> str:
    tag = page[page.index("<img", page.index('class="home-hero-photo"')) :]
    return tag[: tag.index(">")]


def display_url(db, entry: Entry, kind=AssetKind.display_jpeg) -> str:
    from contest.storage import get_storage

    return get_storage().url(next(a for a in entry.assets if a.kind is kind).storage_key)


def test_without_a_choice_the_best_approved_photo_is_featured(app, client, db, contest, now, photos):
    contest.vote_counts = VoteCountDisplay.after_close  # counts hidden: the first approved one
    db.commit()
    with app.test_request_context():
        first, most_voted = display_url(db, photos[0]), display_url(db, photos[1])
    assert first in hero_src(home(client))
    photos[1].vote_count = photos[1].rank_votes = 40  # rank_votes: the indexed copy the page reads
    contest.vote_counts = VoteCountDisplay.live  # counts public: the most voted one
    db.commit()
    tag = hero_src(home(client))
    assert most_voted in tag and 'fetchpriority="high"' in tag and "loading=" not in tag


def test_the_organizers_choice_is_featured_until_it_leaves_the_gallery(
    app, client, db, contest, organizer, now, photos
):
    chosen = photos[2]
    log_in(client, organizer)
    response = client.post(
        f"/admin/entries/{chosen.id}/feature", data={"feature": "1", "next": "/admin/entries"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/admin/entries"
    db.refresh(contest)
    assert contest.featured_entry_id == chosen.id
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "entry.featured")).one()
    assert (event.actor_id, event.subject_id, event.contest_id) == (organizer.id, chosen.id, contest.id)
    with app.test_request_context():
        chosen_url, first_url = display_url(db, chosen), display_url(db, photos[0])
    page = home(client)
    tag = hero_src(page)
    assert chosen_url in tag and "srcset=" in tag and " 1600w" in tag and " 400w" in tag
    assert "original" not in tag and "/private/" not in tag
    assert f'href="/e/{chosen.code}">Biển Cửa Lò</a>' in page  # the credit
    # A shared link to the home page shows it too, at an address that outlives signed URLs.
    assert (
        f'<meta property="og:image" content="{app.config["PUBLIC_BASE_URL"]}/e/{chosen.code}/og.jpg">' in page
    )

    chosen.status = EntryStatus.rejected  # taken down: the page chooses again
    db.commit()
    assert first_url in hero_src(home(client))

    db.execute(delete(Entry).where(Entry.id == chosen.id))
    db.commit()
    db.refresh(contest)
    assert contest.featured_entry_id is None  # ON DELETE SET NULL


def test_stopping_the_feature_lets_the_page_choose(client, db, contest, organizer, now, photos):
    contest.featured_entry_id = photos[2].id
    db.commit()
    log_in(client, organizer)
    response = client.post(f"/admin/entries/{photos[2].id}/feature", data={"feature": "0"})
    assert response.status_code == 302
    db.refresh(contest)
    assert contest.featured_entry_id is None
    assert db.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == photos[2].id)).all() == [
        "entry.unfeatured"
    ]


@pytest.mark.parametrize("status", [EntryStatus.pending_review, EntryStatus.rejected])
def test_an_entry_not_approved_cannot_be_featured(client, db, contest, organizer, entrant, now, status):
    entry = make_entry(db, contest, entrant, status=status)
    log_in(client, organizer)
    response = client.post(f"/admin/entries/{entry.id}/feature", data={"feature": "1"}, headers=EN)
    assert response.status_code == 302
    db.refresh(contest)
    assert contest.featured_entry_id is None
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "entry.featured")).all() == []
    assert "Only an approved entry can be shown" in client.get("/admin/entries", headers=EN).get_data(
        as_text=True
    )


def test_a_bad_feature_request_is_refused(client, db, contest, organizer, photos):
    log_in(client, organizer)
    assert client.post(f"/admin/entries/{photos[0].id}/feature", data={"feature": "yes"}).status_code == 400
    assert client.post("/admin/entries/999999/feature", data={"feature": "1"}).status_code == 404


def test_the_moderation_list_offers_the_button_on_approved_entries(client, db, contest, organizer, photos):
    contest.featured_entry_id = photos[0].id
    db.commit()
    log_in(client, organizer)
    page = client.get(f"/admin/entries?contest={contest.id}&status=approved", headers=EN).get_data(
        as_text=True
    )
    assert page.count("Feature on the home page") == 2
    assert page.count("Stop featuring on the home page") == 1 and "On the home page" in page


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 302), ("entrant", 403), ("judge", 403), ("organizer", 302)]
)
def test_access_matrix(request, client, db, contest, photos, role, expected):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    assert client.get("/", headers=EN).status_code == 200
    response = client.post(f"/admin/entries/{photos[0].id}/feature", data={"feature": "1"})
    assert response.status_code == expected
    if role == "anonymous":
        assert response.headers["Location"].startswith("/account/login")
    db.refresh(contest)
    assert contest.featured_entry_id == (photos[0].id if role == "organizer" else None)


# --- the rest of the page --------------------------------------------------------------------
def test_categories_show_a_sample_their_rules_and_prizes(client, db, contest, now, photos):
    page = home(client)
    section = page[page.index('class="home-categories"') : page.index('class="home-recent"')]
    assert section.count('class="home-category"') == len(contest.categories)
    assert section.count("<picture>") == 1  # only the photo category has an approved entry
    assert "At least 3,000 pixels on the long side" in section and "First prize" in section
    strip = page[page.index('class="home-strip"') :]
    assert [strip.index(e.title) for e in reversed(photos)] == sorted(strip.index(e.title) for e in photos)


def test_a_contest_with_no_entry_yet_still_says_what_to_do(client, db, contest, now):
    set_dates(db, contest, (NOW - DAY, NEXT), (NEXT + DAY, NEXT + 60 * DAY))
    page = home(client)
    assert "home-hero-plain" in page and "Submit your photos and videos" in page and "home-strip" not in page


def test_no_contest(client, db):
    assert "No contest is open at the moment." in home(client)


@pytest.fixture
def cache_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "GALLERY_CACHE_S", 3600)
    monkeypatch.setattr("contest.main.views.VERSION_CHECK_S", 3600)
    caches = app.extensions["gallery_cache"]
    caches.clear()
    yield caches
    caches.clear()


def test_anonymous_visitors_share_a_kept_page_and_logged_in_ones_see_their_own(
    app, client, db, contest, entrant, photos, cache_on
):
    first = client.get("/?fbclid=abc", headers=EN)
    with sql_statements(app) as seen:
        again = client.get("/", headers=EN)
    assert seen == [] and again.data == first.data
    assert again.cache_control.public and again.cache_control.max_age > 0
    log_in(client, entrant)
    mine = client.get("/", headers=EN)
    assert mine.cache_control.private and b"Log in" not in mine.data and b"Log in" in first.data


# --- on a phone ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo edition with two demo photos, served on loopback."""
    from contest import create_app
    from contest.contests.demo import DEMO_ENTRIES
    from contest.contests.services import seed_demo
    from contest.extensions import db as db_ext
    from tests.browser import live_server
    from tests.support import make_test_config, migrate
    from worker import demo_gallery

    folder = tmp_path_factory.mktemp("home-site")
    config = make_test_config(folder, f"sqlite:///{folder / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    shown = [next(d for d in DEMO_ENTRIES if d.category == slug) for slug in ("photo", "photo-series")]
    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_gallery, "DEMO_ENTRIES", shown)
        seed = seed_demo(db_ext.session)
        demo_gallery.seed_demo_gallery(db_ext.session, seed.contest, with_video=False)
        db_ext.session.commit()
    with live_server(app) as url:
        yield url
    app.extensions["db"].dispose()


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "vi"])
def test_on_a_phone_the_photo_and_the_call_to_action_are_on_the_first_screen(
    site, browser_page, lang, tmp_path
):
    page = browser_page.page
    page.goto(f"{site}/language/{lang}?next=/", wait_until="load")
    page.wait_for_function("() => document.querySelector('[data-home-hero]').complete")
    screen = page.viewport_size
    hero = page.locator("[data-home-hero]")
    cta = page.locator("[data-home-cta]")
    assert page.evaluate("document.querySelector('[data-home-hero]').naturalWidth") > 0
    hero_box, cta_box = hero.bounding_box(), cta.bounding_box()
    assert hero_box["y"] < screen["height"] / 2 and hero_box["height"] >= screen["height"] / 3
    assert cta_box["y"] >= 0 and cta_box["y"] + cta_box["height"] <= screen["height"]
    assert cta_box["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= screen["width"]
    # The phone picks a rendition for its width, not the original.
    assert "/public/" in page.evaluate("document.querySelector('[data-home-hero]').currentSrc")
    page.screenshot(path=str(tmp_path / f"home-{lang}.png"))
    assert browser_page.problems() == []
