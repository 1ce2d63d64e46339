"""Issue 18 §8's journeys in headless Chromium (Debian's, through Playwright), on the journeys'
site (tests/journeys_site.py): every page each user sees is checked (no wider than the screen,
no script error nor console error, no policy violation, axe-core) and kept as a screenshot; a
failing journey leaves its page in .artifacts/journey-failures/.

* A new entrant registers, confirms the address from the development mailbox, logs in, sends a
  photo, a photo series and a video (real files meeting the category's rules), and watches My
  entries until the worker has made each one ready.
* A voter on a phone opens the link a friend shared, logs in, is sent back to the entry, votes
  with a tap and sees the vote counted.
* An organizer works a duplicate pair by keyboard (one approved, the other rejected with a reason
  template), changes the photo category's rules, and reads the figures against a hand count.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select

from contest.audit.models import AuditEvent
from contest.contests.models import Contest, Place
from contest.entries.models import Entry, EntryStatus
from contest.extensions import db
from contest.voting.models import Vote
from tests.journeys_media import rule_jpeg, saved_again, short_clip
from tests.journeys_site import PHONE_DEVICE, journey_in
from tests.journeys_state import (
    approve,
    duplicate_pair,
    entry_codes,
    photo_category,
    statuses,
    verified_user,
)
from tests.journeys_steps import (
    change_rules,
    moderate_pair_by_keyboard,
    read_figures,
    shared_link,
    submit_entry,
    vote_count,
    watch_until_ready,
)
from tests.journeys_support import confirm_email, open_from_my_entries
from tests.support import PASSWORD

pytestmark = pytest.mark.browser
ORGANIZER = ("organizer@demo.happynghean.vn", "demo-organizer-2025")
ENTRANT_COMBOS = [("phone", "vi"), ("laptop", "en")]


@pytest.fixture(scope="module")
def media(journey_site, tmp_path_factory):
    """Real files for each entrant run (its own photographs: no run's photo is a duplicate of
    another's) and the organizer's pair (a photograph and the same one saved again)."""
    app, _url = journey_site
    _id, min_long, _max = photo_category(app)
    folder = tmp_path_factory.mktemp("journey-media")

    def photo(name: str, variant: int):
        return rule_jpeg(folder, name, variant, min_long=min_long, min_bytes=3_000_000)

    runs = {
        combo: [photo(f"{combo[0]}-{n}", 4 * i + n) for n in range(4)]
        for i, combo in enumerate(ENTRANT_COMBOS)
    }
    twin = photo("twin", 8)
    return {"runs": runs, "clip": short_clip(folder), "pair": [twin, saved_again(twin, "twin-again")]}


# --- the new entrant ---------------------------------------------------------------------------
@pytest.mark.parametrize(("size", "lang"), ENTRANT_COMBOS)
def test_entrant_journey(journey_site, journey, media, size, lang):
    app, _url = journey_site
    page = journey.page
    email = f"new-{size}-{lang}@example.com"
    register(journey, email)

    photo, *series = media["runs"][(size, lang)]
    submit_entry(journey, "photo", [photo])
    submit_entry(journey, "photo_series", series)
    submit_entry(journey, "video", [media["clip"]])
    codes = authored_codes(app, email)
    assert len(codes) == 3, codes
    watch_until_ready(journey, app, codes)
    assert set(statuses(app, codes).values()) == {EntryStatus.pending_review}

    open_from_my_entries(journey, codes[0], "preview")
    assert page.locator("[data-share-url], img.qr-code").count() == 0, "a preview offers no sharing"
    approve(app, codes[0])
    journey.go("/entries/mine", "my entries approved")
    open_from_my_entries(journey, codes[0], "public entry")
    assert page.locator("[data-share-url]").count() == 1, "the public page offers its link"


@pytest.mark.parametrize(("size", "lang"), [("phone", "en"), ("laptop", "vi")])
def test_registration_journey(journey, size, lang):
    """The entrant's first steps at the other sizes and languages, up to the entry form."""
    register(journey, f"signed-up-{size}-{lang}@example.com")
    journey.go("/entries/new", "new entry")
    assert journey.page.locator("input[name=category][data-kind]").count() == 3


def register(journey, email: str) -> None:
    """Sign up through the form, confirm the address from the mailbox, log in."""
    page = journey.page
    journey.go("/account/register", "register")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_confirm]", PASSWORD)
    page.fill("input[name=full_name]", "Hồ Thị Thu" if journey.lang == "vi" else "Jane Walker")
    page.select_option("select[name=country]", "VN" if journey.lang == "vi" else "GB")
    page.fill("input[name=birth_year]", "1992")
    with page.expect_navigation(wait_until="load"):
        page.locator("main form [type=submit]").last.click()
    journey.check("registered")
    confirm_email(journey, email)


def authored_codes(app, email: str) -> list[str]:
    with app.app_context():
        query = select(Entry.code).join(Entry.author).where(Entry.author.has(email=email)).order_by(Entry.id)
        return list(db.session.scalars(query))


# --- the voter from a shared link, on a phone --------------------------------------------------
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_shared_link_voter_journey(journey_site, chromium, request, lang):
    app, url = journey_site
    code = entry_codes(app)["photo_series"]
    email = f"friend-{lang}@example.com"
    verified_user(app, email, lang)
    with journey_in(chromium, url, request, "sharer", "laptop", lang) as friend:
        link = shared_link(friend, code)
    with journey_in(chromium, url, request, "shared_link_voter", "phone", lang, **PHONE_DEVICE) as journey:
        page = journey.page
        journey.go(link, "shared entry")
        before = vote_count(page)
        with page.expect_navigation(wait_until="load"):
            page.locator(".vote-box a[href*='/account/login']").tap()
        journey.check("log in to vote")
        journey.fill_login(email, PASSWORD)
        assert urlparse(page.url).path == f"/e/{code}", f"not sent back to the entry: {page.url}"
        journey.check("back on the entry")
        page.locator(".vote-button").tap()
        page.wait_for_function(
            "() => document.querySelector('[data-vote-message]').textContent.trim() !== ''"
        )
        if before is not None:
            page.wait_for_function(
                f"() => document.querySelector('[data-vote-count]').textContent.trim() !== '{before}'"
            )
            assert vote_count(page) == before + 1
        journey.check("voted")
        page.reload(wait_until="load")
        journey.check("voted, reloaded")
        assert page.locator(".vote-button").count() == 0 and page.locator(".vote-done").count() == 1
        if before is not None:
            assert vote_count(page) == before + 1
        journey.go("/votes/mine", "my votes")
        assert page.locator(f"main a[href$='/e/{code}']").count() >= 1
    with app.app_context():
        cast = select(func.count()).select_from(Vote).join(Entry).join(Vote.voter)
        mine = cast.where(Entry.code == code, Vote.voter.has(email=email))
        assert db.session.scalar(mine) == 1


# --- the organizer -----------------------------------------------------------------------------
@pytest.mark.parametrize(("size", "lang"), [("laptop", "vi"), ("phone", "en")])
def test_organizer_pair_rules_figures_journey(journey_site, journey, media, size, lang):
    """At a desk, and on a phone with a keyboard (the organizer's pages fit a phone too)."""
    app, _url = journey_site
    author = f"twin-{size}-{lang}@example.com"
    pair = duplicate_pair(app, author, media["pair"])
    journey.log_in(*ORGANIZER)
    journey.go(f"/language/{lang}?next=/admin/", "language chosen")

    approved, rejected = moderate_pair_by_keyboard(journey, author)
    assert sorted([approved, rejected]) == sorted(pair)
    assert statuses(app, pair) == {approved: EntryStatus.approved, rejected: EntryStatus.rejected}
    assert rejection_reason(app, rejected) == "Trùng với tác phẩm khác."

    category_id, min_long, _max = photo_category(app)
    change_rules(journey, category_id, min_long - 200, 50)
    assert photo_category(app) == (category_id, min_long - 200, 50_000_000)
    journey.go(f"/admin/categories/{category_id}/edit", "rules again")
    assert journey.page.input_value("input[name=min_long_edge_px]") == str(min_long - 200)

    tables = read_figures(journey)
    by_place = {row[0]: int(row[1].replace(".", "").replace(",", "")) for row in tables["entries-by-place"]}
    assert by_place == entries_by_place(app, lang)
    votes = sum(int(row[1].replace(".", "").replace(",", "")) for row in tables["votes-per-day"])
    assert votes == all_votes(app)
    top = {row[0]: int(row[3].replace(".", "").replace(",", "")) for row in tables["top-entries"]}
    assert top and all(n == valid_votes(app, code) for code, n in top.items()), top


def rejection_reason(app, code: str) -> str:
    with app.app_context():
        entry_id = db.session.scalar(select(Entry.id).where(Entry.code == code))
        events = select(AuditEvent.reason).where(
            AuditEvent.action == "entry.rejected", AuditEvent.subject_id == entry_id
        )
        return db.session.scalar(events)


def entries_by_place(app, lang: str) -> dict[str, int]:
    """Hand count: each place of the contest (its name in the page's language) and the entries
    it received (sent once)."""
    with app.app_context():
        contest = db.session.scalar(select(Contest))
        places = db.session.scalars(select(Place).where(Place.contest_id == contest.id)).all()
        entries = db.session.scalars(select(Entry).where(Entry.submitted_at.is_not(None))).all()
        return {getattr(p, f"name_{lang}"): sum(1 for e in entries if e.place_id == p.id) for p in places}


def all_votes(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Vote))


def valid_votes(app, code: str) -> int:
    with app.app_context():
        query = (
            select(func.count())
            .select_from(Vote)
            .join(Entry)
            .where(Entry.code == code, Vote.voided_at.is_(None))
        )
        return db.session.scalar(query)
