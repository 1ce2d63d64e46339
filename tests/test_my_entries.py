"""No dead ends for entrants: "My entries", the author's preview, and the page after submitting.

Each card links to the entry's page, shows its status in words and in a colour of its own,
what happens next (with the organizers' reason for a rejected entry), and once the entry is
public its vote count and share buttons. The preview of an entry that is not public says so
and shares nothing (no buttons, no link, no QR code: /e/<code>/qr.svg is 404 for it). After
a submission the entrant reads the steps that follow, with the contest's dates. Real requests
on SQLite and PostgreSQL; a real photo through the form; headless Chromium at 390x844.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from contest import create_app
from contest.contests.models import VoteCountDisplay
from contest.contests.services import seed_demo
from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus
from contest.entries.moderation import reject
from contest.extensions import db as db_ext
from tests.browser import live_server
from tests.support import PASSWORD, create_user, log_in, make_entry, make_test_config, migrate, wallpaper

EN = {"Accept-Language": "en"}
VI = {"Accept-Language": "vi"}

# status -> (its words, its colour class, words of its next step)
CARDS = {
    EntryStatus.submitted: ("Received", "state-processing", "We are preparing your file for the web"),
    EntryStatus.processing: ("Processing", "state-processing", "We are preparing your file for the web"),
    EntryStatus.pending_review: ("Awaiting review", "state-pending", "The organizers review it"),
    EntryStatus.approved: ("Accepted", "state-approved", "It is in the gallery: share its page."),
    EntryStatus.rejected: ("Not accepted", "state-rejected", "Fix it (new details or a new file)"),
    EntryStatus.failed: ("File refused", "state-failed", "withdraw this entry and submit the new file"),
    EntryStatus.withdrawn: ("Withdrawn", "state-withdrawn", "You withdrew it"),
}


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def card(response, code: str) -> tuple[str, str]:
    """The classes and the inner HTML (unescaped) of the entry's card on "My entries"."""
    found = re.search(
        rf'<li class="([^"]*)" id="entry-{re.escape(code)}">(.*?)</li>', response.get_data(as_text=True), re.S
    )
    assert found, f"no card for {code}"
    return found.group(1), html.unescape(found.group(2))


@pytest.fixture
def author(db):
    return create_user(db, "author@example.com", full_name="Trần Thị Hoa")


def entry_in(db, contest, author, status: EntryStatus, organizer=None, app=None) -> Entry:
    if status is EntryStatus.rejected:
        entry = make_entry(db, contest, author, status=EntryStatus.pending_review)
        with app.app_context():  # the decision's e-mail is built and sent after the commit
            reject(db, entry, organizer, "The horizon is tilted: please see rule 4.")
            db.commit()
        return entry
    fields = {"failure_code": "damaged_file"} if status is EntryStatus.failed else {}
    return make_entry(db, contest, author, status=status, **fields)


# --- the cards --------------------------------------------------------------------------------
@pytest.mark.parametrize("status", list(CARDS))
def test_each_status_has_its_words_colour_next_step_and_link(
    app, client, db, contest, author, organizer, status
):
    entry = entry_in(db, contest, author, status, organizer, app)
    log_in(client, author)

    response = client.get("/entries/mine", headers=EN)

    assert response.status_code == 200
    classes, inner = card(response, entry.code)
    words, colour, next_step = CARDS[status]
    assert colour in classes.split()
    assert re.search(rf'<span class="status entry-state {colour}">{words}</span>', inner)
    assert "Next:" in inner and next_step in inner
    page_link = f'href="/e/{entry.code}"'
    assert (page_link in inner) is (status is not EntryStatus.withdrawn)  # a withdrawn entry has no page


def test_every_status_has_a_colour_of_its_own(app, client, db, contest, author, organizer):
    entries = {status: entry_in(db, contest, author, status, organizer, app) for status in CARDS}
    log_in(client, author)
    response = client.get("/entries/mine", headers=EN)
    colours = {status: card(response, e.code)[0].split()[-1] for status, e in entries.items()}
    worker_steps = {colours.pop(EntryStatus.submitted), colours[EntryStatus.processing]}
    assert len(worker_steps) == 1 and len(set(colours.values())) == len(colours) == 6


def test_a_rejected_card_gives_the_organizers_reason(app, client, db, contest, author, organizer):
    entry = entry_in(db, contest, author, EntryStatus.rejected, organizer, app)
    log_in(client, author)
    _, inner = card(client.get("/entries/mine", headers=EN), entry.code)
    assert "The organizers\u2019 reason: The horizon is tilted: please see rule 4." in inner
    # While submission is open its author can fix it (issue 18), and the card offers the way.
    assert "Fix it (new details or a new file)" in inner
    assert f'href="/entries/{entry.code}/edit"' in inner


def test_a_failed_card_says_what_to_do_and_when_it_is_too_late(client, db, contest, author):
    entry = entry_in(db, contest, author, EntryStatus.failed)
    log_in(client, author)
    _, inner = card(client.get("/entries/mine", headers=EN), entry.code)
    assert "The file is damaged or incomplete" in inner and "submit the new file before" in inner

    contest.submission_closes_at = now_utc() - timedelta(hours=1)
    contest.submission_opens_at = now_utc() - timedelta(days=30)
    db.commit()
    _, inner = card(client.get("/entries/mine", headers=EN), entry.code)
    assert "Submissions are closed: the file can no longer be sent again." in inner


def test_the_next_step_gives_the_contests_voting_dates_in_vietnam_time(client, db, contest, author):
    entry = entry_in(db, contest, author, EntryStatus.pending_review)
    contest.voting_opens_at = now_utc().replace(year=now_utc().year + 1, month=2, day=1, hour=17, minute=0)
    contest.voting_closes_at = contest.voting_opens_at.replace(month=3)
    db.commit()
    log_in(client, author)
    year = contest.voting_opens_at.year
    _, inner = card(client.get("/entries/mine", headers=EN), entry.code)
    assert f"Public voting runs from February 2, {year} at 00:00 to March 2, {year} at 00:00." in inner
    log_in(client, author, lang="vi")
    _, inner = card(client.get("/entries/mine", headers=VI), entry.code)
    assert f"2 tháng 2, {year}" in inner


def test_only_a_public_entry_shows_votes_and_share_buttons(client, db, contest, author):
    public = make_entry(db, contest, author, vote_count=7)
    waiting = make_entry(db, contest, author, status=EntryStatus.pending_review, vote_count=0)
    log_in(client, author)

    response = client.get("/entries/mine", headers=EN)

    _, shown = card(response, public.code)
    assert "7 votes" in shown and "data-share" in shown
    assert re.search(
        rf'<input id="share-url-{public.code}" type="url" value="http[^"]*/e/{public.code}"', shown
    )
    assert "facebook.com/sharer" in shown and "data-share-zalo" in shown and "qr-code" not in shown
    _, hidden = card(response, waiting.code)
    assert "data-share" not in hidden and "facebook.com" not in hidden and "votes" not in hidden
    assert "js/share.js" in response.get_data(as_text=True)


def test_the_vote_count_is_hidden_while_the_contest_hides_counts(client, db, contest, author):
    public = make_entry(db, contest, author, vote_count=7)
    contest.vote_counts = VoteCountDisplay.after_close
    db.commit()
    log_in(client, author)
    _, shown = card(client.get("/entries/mine", headers=EN), public.code)
    assert "7 votes" not in shown and "data-share" in shown


def test_no_share_script_without_a_public_entry(client, db, contest, author):
    make_entry(db, contest, author, status=EntryStatus.pending_review)
    log_in(client, author)
    body = client.get("/entries/mine", headers=EN).get_data(as_text=True)
    assert "js/share.js" not in body and "data-share" not in body


# --- the author's preview ---------------------------------------------------------------------
@pytest.mark.parametrize("status", [EntryStatus.pending_review, EntryStatus.rejected, EntryStatus.failed])
def test_the_preview_says_it_is_not_public_and_shares_nothing(
    app, client, db, contest, author, organizer, status
):
    entry = entry_in(db, contest, author, status, organizer, app)
    log_in(client, author)

    response = client.get(f"/e/{entry.code}", headers=EN)

    assert response.status_code == 200
    page = text_of(response)
    assert "This entry is not public" in page and "It can be shared once it is public." in page
    assert CARDS[status][2] in page  # what happens next, for its author
    for sharing in ("data-share", "share-url", "qr-code", "qr.svg", "facebook.com/sharer", "js/share.js"):
        assert sharing not in page, sharing
    assert client.get(f"/e/{entry.code}/qr.svg").status_code == 404
    assert client.get(f"/e/{entry.code}/og.jpg").status_code == 404


def test_an_organizers_preview_has_no_note_to_the_author(client, db, contest, author, organizer):
    entry = entry_in(db, contest, author, EntryStatus.pending_review)
    log_in(client, organizer)
    page = text_of(client.get(f"/e/{entry.code}", headers=EN))
    assert "This entry is not public" in page and "The organizers review it" not in page
    assert "data-share" not in page


def test_the_public_page_keeps_its_share_panel_and_qr(client, db, contest, author):
    entry = make_entry(db, contest, author)
    page = text_of(client.get(f"/e/{entry.code}", headers=EN))
    assert "data-share" in page and "js/share.js" in page and f"/e/{entry.code}/qr.svg" in page
    assert "This entry is not public" not in page
    assert client.get(f"/e/{entry.code}/qr.svg").status_code == 200


@pytest.mark.parametrize(
    ("role", "waiting_qr", "public_qr"),
    [("anonymous", 404, 200), ("author", 404, 200), ("judge", 404, 200), ("organizer", 404, 200)],
)
def test_qr_access_matrix(request, client, db, contest, author, role, waiting_qr, public_qr):
    waiting = make_entry(db, contest, author, status=EntryStatus.pending_review)
    public = make_entry(db, contest, author)
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    assert client.get(f"/e/{waiting.code}/qr.svg").status_code == waiting_qr
    assert client.get(f"/e/{public.code}/qr.svg").status_code == public_qr


# --- after submitting ----------------------------------------------------------------------
def test_after_submitting_the_entrant_reads_what_happens_next(client, db, contest, entrant, storage):
    contest.voting_opens_at = now_utc() + timedelta(days=70)
    contest.voting_closes_at = now_utc() + timedelta(days=100)
    contest.results_at = now_utc() + timedelta(days=110)
    db.commit()
    log_in(client, entrant)
    with wallpaper("Volna").open("rb") as photo:
        response = client.post(
            "/entries/new",
            content_type="multipart/form-data",
            headers=EN,
            data={
                "category": str(next(c for c in contest.categories if c.kind.value == "photo").id),
                "title": "Bình minh trên sông Lam",
                "place": str(contest.places[0].id),
                "taken_on": "2024-05-01",
                "photo": (photo, "IMG_0001.JPG"),
                "accept_own_work": "y",
                "accept_promo_use": "y",
                "accept_not_awarded": "y",
            },
        )
    code = db.scalars(select(Entry.code)).one()
    assert response.status_code == 302 and response.headers["Location"] == f"/entries/mine?sent={code}"

    page = text_of(client.get(response.headers["Location"], headers=EN))

    steps = re.search(r'<ol class="next-steps">(.*?)</ol>', page, re.S).group(1)
    items = re.findall(r"<li>(.*?)</li>", steps)
    assert f"What happens next to entry {code}" in page
    assert "thumbnail appears below" in items[0]
    assert "The organizers review it" in items[1] and "gallery" in items[1]
    assert items[2].startswith("Public voting runs from ") and " to " in items[2]
    assert items[3].startswith("The results are announced on ")
    assert len(items) == 4


def test_the_steps_are_shown_only_for_ones_own_entry(client, db, contest, author, entrant):
    other = make_entry(db, contest, author, status=EntryStatus.pending_review)
    log_in(client, entrant)
    page = text_of(client.get(f"/entries/mine?sent={other.code}", headers=EN))
    assert "after-submit" not in page and f"entry {other.code}" not in page
    assert client.get("/entries/mine?sent=<script>", headers=EN).status_code == 200


@pytest.mark.parametrize(
    ("role", "expected"), [("anonymous", 302), ("entrant", 200), ("judge", 200), ("organizer", 200)]
)
def test_access_matrix(request, client, db, contest, role, expected):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    assert client.get("/entries/mine?sent=HNA25-0001", headers=EN).status_code == expected


# --- in a browser, at phone size ---------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served app where one author has a public photo entry (real renditions) and one awaiting review."""
    from worker import demo_gallery

    folder = tmp_path_factory.mktemp("my-entries-site")
    config = make_test_config(folder, f"sqlite:///{folder / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    photo = next(d for d in demo_gallery.DEMO_ENTRIES if d.category == "photo")
    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_gallery, "DEMO_ENTRIES", [photo])
        seed = seed_demo(db_ext.session)
        demo_gallery.seed_demo_gallery(db_ext.session, seed.contest, with_video=False)
        public = db_ext.session.scalars(select(Entry)).one()
        hoa = create_user(db_ext.session, "hoa@example.com", full_name="Trần Thị Hoa")
        public.author_id = hoa.id
        waiting = make_entry(db_ext.session, seed.contest, hoa, status=EntryStatus.pending_review)
        db_ext.session.commit()
        codes = public.code, waiting.code
    with live_server(app) as url:
        yield url, *codes
    app.extensions["db"].dispose()


@pytest.mark.browser
def test_from_my_entries_to_the_public_page_on_a_phone(site, browser_page):
    url, public, waiting = site
    page = browser_page.page  # 390x844, English
    page.goto(f"{url}/account/login", wait_until="load")
    page.fill("input[name=email]", "hoa@example.com")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation(wait_until="load"):
        page.locator("main form [type=submit]").last.click()
    page.goto(f"{url}/entries/mine", wait_until="load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    waiting_card = page.locator(f"#entry-{waiting}")
    assert "state-pending" in waiting_card.get_attribute("class")
    assert waiting_card.locator("[data-share]").count() == 0
    public_card = page.locator(f"#entry-{public}")
    accepted = {"vi": "Được chấp nhận", "en": "Accepted"}[page.evaluate("document.documentElement.lang")]
    assert public_card.locator(".entry-state").inner_text() == accepted
    assert public_card.locator("[data-copy-link]").is_visible()  # share.js showed it

    with page.expect_navigation(wait_until="load"):
        public_card.locator(f"h2 a[href='/e/{public}']").click()

    assert page.url == f"{url}/e/{public}"
    assert page.locator("[data-share-url]").count() == 1 and page.locator("img.qr-code").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.goto(f"{url}/entries/mine", wait_until="load")
    with page.expect_navigation(wait_until="load"):
        page.locator(f"#entry-{waiting} h2 a").click()
    assert page.locator(".entry-preview").is_visible()
    assert page.locator("[data-share], [data-share-url], img.qr-code").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert browser_page.problems() == []
