"""Issue 17's journeys in headless Chromium, on a phone (390x844) and a laptop (1280x800), in vi and en.

A visitor, a returning entrant, an organizer, a judge and a voter go through the site as they
would; every page they see is checked by tests/journeys_support.py (no wider than the screen, no
script error, console error nor policy violation, no serious or critical axe-core violation) and
kept as a screenshot in .artifacts/journeys/. The site (tests/journeys_site.py) is one app on a
migrated SQLite database of its own, with the demo gallery, served for the whole session; issue
18's journeys (a new entrant's three entries, a voter from a shared link, an organizer's
duplicate pair, rules and figures) are in tests/test_journeys_issue18.py.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from contest.entries.models import Entry, EntryStatus
from contest.extensions import db
from tests.journeys_state import (
    contest_in_phase,
    entry_codes,
    open_jury_round,
    pending_entry,
    verified_user,
)
from tests.journeys_support import (
    LOCALES,
    SIZES,
    follow_mail,
    follow_menu,
    open_and_close_zoom,
    read_as_people_do,
    screen_box,
    tab_to,
    visible_focus,
)
from tests.support import PASSWORD

pytestmark = pytest.mark.browser
ORGANIZER = ("organizer@demo.happynghean.vn", "demo-organizer-2025")
JUDGE = ("judge@demo.happynghean.vn", "demo-judge-2025")
COMBOS = [(size, lang) for size in SIZES for lang in LOCALES]
ENGLISH_TITLE = "Sunrise over the Lam river"


@pytest.fixture(scope="module")
def site(journey_site):
    """(app, base URL) of the journeys' site (tests/journeys_site.py), shared by the session."""
    return journey_site


# --- the visitor ------------------------------------------------------------------------------
@pytest.mark.parametrize(("size", "lang"), COMBOS)
def test_visitor_journey(site, journey, size, lang):
    app, _url = site
    codes = entry_codes(app)
    page = journey.page
    journey.go("/", "home")
    journey.whole_page()
    assert page.locator("main h1").first.is_visible()
    assert journey.small_targets("header") == [], "header tap targets under 44 px"

    follow_menu(journey, "/gallery", "gallery")
    journey.whole_page()
    if size == "phone":
        photo = screen_box(page, ".gallery-card img")
        assert photo["height"] > 0 and photo["bottom"] <= photo["screen"], (
            f"first photo not on screen: {photo}"
        )

    with page.expect_navigation(wait_until="load"):
        page.locator(f".gallery-card a[href$='/e/{codes['photo']}']").first.click()
    journey.check("entry")
    journey.whole_page()
    open_and_close_zoom(journey, by_keyboard=False)

    journey.go(f"/e/{codes['video']}", "video")
    journey.go("/rules", "rules")
    journey.go("/ranking", "ranking")
    journey.go("/results", "results not out yet", status=404)
    journey.go("/account/login", "log in")
    with page.expect_navigation(wait_until="load"):
        page.locator("main a[href$='/account/forgot-password']").click()
    journey.check("forgotten password")


# --- the new entrant: tests/test_journeys_issue18.py (a photo, a series and a video) ------------
@pytest.mark.parametrize(("size", "lang"), [("phone", "vi"), ("laptop", "en")])
def test_returning_entrant_journey(site, journey, size, lang):
    """A wrong password, then a new one chosen through the e-mailed link, then logged in."""
    app, _url = site
    page = journey.page
    email = f"returning-{size}-{lang}@example.com"
    verified_user(app, email, lang)
    journey.log_in(email, "not my password")
    journey.check("wrong password")
    assert page.locator("main [role=alert], main .error, main .flash-error").count() >= 1
    with page.expect_navigation(wait_until="load"):
        page.locator("main a[href$='/account/forgot-password']").click()
    journey.check("forgotten password")
    page.fill("input[name=email]", email)
    with page.expect_navigation(wait_until="load"):
        page.locator("main form [type=submit]").last.click()
    journey.check("link sent")
    follow_mail(journey, email, "/account/reset/", "new password")
    page.fill("input[name=password]", "a brand new passphrase")
    page.fill("input[name=password_confirm]", "a brand new passphrase")
    with page.expect_navigation(wait_until="load"):
        page.locator("main form [type=submit]").last.click()
    journey.check("password changed")
    if urlparse(page.url).path == "/account/login":
        journey.fill_login(email, "a brand new passphrase")
    journey.go("/entries/mine", "my entries")
    assert urlparse(page.url).path == "/entries/mine", "logged in with the new password"


# --- the organizer ---------------------------------------------------------------------------
ORGANIZER_PAGES = [
    ("/admin/", "organizer home"),
    ("/admin/results/", "results"),
    ("/admin/results/prizes", "prizes"),
    ("/admin/results/awards", "awards"),
    ("/admin/results/exports", "exports"),
    ("/admin/jury/", "jury rounds"),
    ("/admin/votes", "votes"),
    ("/admin/flags", "flags"),
    ("/admin/audit", "audit"),
    ("/admin/votes/cases", "vote cases"),
    ("/admin/audience", "audience"),
    ("/admin/contests/1/edit", "contest settings"),
    ("/admin/categories/1/edit", "category settings"),
    ("/admin/jury/contests/1/judges", "judges"),
    ("/admin/jury/contests/1/rounds/new", "new round"),
    ("/admin/accounts/", "staff accounts"),
    ("/admin/figures", "figures"),
    ("/admin/rejection-reasons/", "rejection reasons"),
    ("/admin/contests/1/places", "places"),
    ("/admin/contests/1/images", "contest images"),
    ("/admin/contests/new", "new edition"),
]


@pytest.mark.parametrize(("size", "lang"), COMBOS)
def test_organizer_journey(site, journey, size, lang):
    app, _url = site
    page = journey.page
    code = pending_entry(app, f"Chờ duyệt {size} {lang}")
    journey.log_in(*ORGANIZER)
    journey.go(f"/language/{lang}?next=/admin/", "language chosen")  # the demo organizer reads Vietnamese
    journey.go("/admin/entries?status=pending_review", "entries to review")
    card = page.locator("main li, main article, main tr").filter(has_text=code).last
    with page.expect_navigation(wait_until="load"):
        card.locator("form[action$='/approve'] [type=submit]").click()
    journey.check("approved")
    with app.app_context():
        assert db.session.scalar(select(Entry.status).where(Entry.code == code)) is EntryStatus.approved
    # axe-core once per page and screen size (phone in Vietnamese, laptop in English): the
    # pages' structure and colours do not change with the language, and the tour is long.
    audited = (size, lang) in (("phone", "vi"), ("laptop", "en"))
    for path, step in ORGANIZER_PAGES:
        journey.go(path, step, axe=audited)


@pytest.mark.parametrize(("size", "lang"), [("phone", "vi"), ("laptop", "en")])
def test_judge_journey(site, jury_round, journey, size, lang):
    """A judge finds the open round and scores its first entry, on the panel's pages."""
    page = journey.page
    journey.log_in(*JUDGE)
    journey.go(f"/language/{lang}?next=/jury/", "jury")
    with page.expect_navigation(wait_until="load"):
        page.locator(f"main a[href*='/jury/rounds/{jury_round}/']").first.click()
    journey.check("round")
    journey.go(f"/jury/rounds/{jury_round}/next", "entry to judge")
    assert "/entries/" in page.url


@pytest.fixture(scope="module")
def jury_round(site):
    app, _url = site
    return open_jury_round(app, JUDGE[0])


# --- the voter -------------------------------------------------------------------------------
@pytest.mark.parametrize(("size", "lang"), COMBOS)
def test_voter_journey(site, journey, size, lang):
    app, _url = site
    page = journey.page
    email = f"voter-{size}-{lang}@example.com"
    verified_user(app, email, lang)
    journey.log_in(email, PASSWORD)
    journey.check("logged in")
    journey.go("/gallery", "gallery")
    with page.expect_navigation(wait_until="load"):
        page.locator(".gallery-card a").first.click()
    journey.check("entry")
    assert journey.small_targets(".vote-box") == [], "vote box tap targets under 44 px"
    page.locator(".vote-button").click()
    message = page.locator("[data-vote-message]")
    message.wait_for(state="visible")
    page.wait_for_function("() => document.querySelector('[data-vote-message]').textContent.trim() !== ''")
    after_click = page.inner_text(".vote-box")
    journey.check("voted")
    page.reload(wait_until="load")
    journey.check("voted, reloaded")
    after_reload = page.inner_text(".vote-box")
    assert page.locator(".vote-button").count() == 0
    assert said(after_click) & said(after_reload), (after_click, after_reload)
    follow_menu(journey, "/votes/mine", "my votes")


def said(box_text: str) -> set[str]:
    """The sentences of the vote box, without its count."""
    return {s.strip() for s in re.split(r"[.\n]", box_text) if s.strip() and not re.search(r"\d", s)}


# --- the keyboard ----------------------------------------------------------------------------
@pytest.mark.parametrize(("size", "lang"), [("laptop", "vi"), ("laptop", "en"), ("phone", "en")])
def test_keyboard_journey(site, journey, size, lang):
    """Tab to the vote button, vote with Enter; open the zoom with the keyboard, close it with Escape."""
    app, _url = site
    page = journey.page
    email = f"keyboard-{size}-{lang}@example.com"
    verified_user(app, email, lang)
    journey.log_in(email, PASSWORD)
    journey.go(f"/e/{entry_codes(app)['photo']}", "entry")
    tab_to(page, ".vote-button")
    ring = journey.focus_ring()
    journey.screenshot("vote button focused")
    assert visible_focus(ring), f"no visible focus on the vote button: {ring}"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('[data-vote-message]').textContent.trim() !== ''")
    focused = page.evaluate("document.activeElement && document.activeElement.closest('.vote-box') !== null")
    assert focused, "focus stays in the vote box after the vote"
    journey.check("voted by keyboard")

    page.evaluate("window.scrollTo(0, 0); document.activeElement.blur()")
    tab_to(page, "[data-zoom]")
    ring = journey.focus_ring()
    journey.screenshot("picture focused")
    assert visible_focus(ring), f"no visible focus on the picture: {ring}"
    page.evaluate("document.activeElement.blur()")
    open_and_close_zoom(journey, by_keyboard=True)


# --- the English visitor ----------------------------------------------------------------------
@pytest.mark.parametrize(("size", "lang"), [("phone", "en"), ("phone", "vi")])
def test_english_title_journey(site, journey, size, lang):
    app, _url = site
    page = journey.page
    with app.app_context():
        entry = db.session.scalar(select(Entry).where(Entry.code == entry_codes(app)["photo"]))
        entry.title_en = ENGLISH_TITLE
        vietnamese, code = entry.title, entry.code
        db.session.commit()
    shown, hidden = (ENGLISH_TITLE, vietnamese) if lang == "en" else (vietnamese, ENGLISH_TITLE)
    journey.go("/gallery", "gallery")
    card = page.locator(f".gallery-card:has(a[href$='/e/{code}'])")
    assert shown in card.inner_text() and hidden not in card.inner_text()
    with page.expect_navigation(wait_until="load"):
        card.locator("a").first.click()
    journey.check("entry")
    assert page.inner_text("main h1").strip() == shown
    assert page.locator("meta[property='og:title']").get_attribute("content").startswith(shown)


# --- the home page through the contest's phases ---------------------------------------------
# phase: the contest's dates in days from now (submissions, votes, results); what the page calls
# the phase (vi, en); which of the dates the countdown counts to (None: nothing left to count);
# where its call to action leads.
PHASES = {
    "submitting": (
        ((-10, 12), (13, 40), 50),
        ("Đang nhận tác phẩm", "Submissions are open"),
        0,
        "/entries/new",
    ),
    "voting": (((-40, -10), (-5, 12), 50), ("Bình chọn công khai", "Public vote"), 1, "/gallery"),
    "judging": (
        ((-60, -40), (-30, -10), 12),
        ("Ban Giám khảo đang chấm", "The jury is judging"),
        2,
        "/gallery",
    ),
    "results": (
        ((-90, -60), (-50, -30), -2),
        ("Đã công bố kết quả", "The results are out"),
        None,
        "/results",
    ),
}


@pytest.mark.parametrize(("size", "lang"), [("phone", "vi"), ("laptop", "en")])
@pytest.mark.parametrize("phase", list(PHASES))
def test_home_phase_journey(site, journey, phase, size, lang):
    """The phase, the time left and the next date as people read them, and the phase's one call
    to action, all on the first screen; the call to action leads to a page that works."""
    app, _url = site
    page = journey.page
    days, names, counted, action = PHASES[phase]
    journey.name = f"home_{phase}"
    with contest_in_phase(app, *days, published=phase == "results") as dates:
        journey.go("/", f"home {phase}")
        shown = page.locator(f".home-phase-{phase}")
        assert shown.inner_text().strip() == names[lang == "en"]
        first_screen = [".home-phase", "[data-home-cta]"]
        if counted is None:
            assert page.locator("[data-countdown]").count() == 0
        else:
            countdown = page.inner_text("[data-countdown]")
            assert countdown.startswith("còn 12 ngày" if lang == "vi" else "12 days left"), countdown
            assert read_as_people_do(dates[counted], lang) in countdown, countdown
            first_screen.append("[data-countdown]")
        for selector in first_screen:
            box = screen_box(page, selector)
            assert box["top"] >= 0 and box["bottom"] <= box["screen"], (
                f"{selector} below the first screen: {box}"
            )
        assert page.locator("[data-home-cta]").count() == 1
        with page.expect_navigation(wait_until="load"):
            page.locator("[data-home-cta]").click()
        assert urlparse(page.url).path in (action, "/account/login"), page.url
        journey.check(f"call to action {phase}")
