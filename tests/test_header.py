"""The site's header and menu: a compact bar on a phone, the links by role, the skip link and
the focus ring, the gallery's folded filters, one reminder to confirm the e-mail address.

The menu by role and the kept pages through the test client (both databases); the layout,
the keyboard and the focus in headless Chromium at 390x844 and 1280x800, in both languages,
on a served app with the demo's photos.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from contest import create_app
from contest.auth.models import Role
from contest.contests.models import VoteCountDisplay
from contest.contests.services import seed_demo
from contest.db import now_utc
from contest.extensions import db as site_db
from tests.browser import live_server
from tests.support import PASSWORD, create_user, log_in, make_test_config, migrate
from worker import demo_gallery

EN = {"Accept-Language": "en"}
PHONE, LAPTOP = (390, 844), (1280, 800)
HEADER_MAX_PX = 64
TAP_MIN_PX = 44
DEMO_ENTRANT = ("entrant@demo.happynghean.vn", "demo-entrant-2025")
UNVERIFIED = "unverified@example.com"
# The reminder to confirm the address, in each language (the banner, the page about it).
CONFIRM = {"en": "confirm your e-mail address", "vi": "xác nhận địa chỉ email"}


# --- the menu by role (test client) ----------------------------------------------------------
def menu_links(html: str) -> list[str]:
    """The menu's links and forms, in order: their addresses."""
    nav = re.search(r'<nav class="site-nav".*?</nav>', html, re.S).group(0)
    links = re.search(r'<ul class="nav-links">.*?</ul>', nav, re.S).group(0)
    return re.findall(r'(?:href|action)="([^"]+)"', links)


COMMON = ["/gallery", "/ranking", "/rules"]
MENU_BY_ROLE = {
    "anonymous": [*COMMON, "/account/login", "/account/register"],
    "entrant": [*COMMON, "/entries/mine", "/entries/new", "/votes/mine", "/account/", "/account/logout"],
    "judge": [*COMMON, "/votes/mine", "/jury/", "/account/", "/account/logout"],
    "organizer": [*COMMON, "/votes/mine", "/admin/", "/account/", "/account/logout"],
}


@pytest.mark.parametrize("role", MENU_BY_ROLE)
def test_the_menu_holds_the_links_of_the_visitors_role(request, client, contest, role):
    if role != "anonymous":
        log_in(client, request.getfixturevalue(role))
    page = client.get("/rules", headers=EN).get_data(as_text=True)
    assert menu_links(page) == MENU_BY_ROLE[role]
    assert '<a href="/rules" aria-current="page">' in page


@pytest.mark.parametrize(("role", "expected"), [("entrant", 200), ("judge", 403), ("organizer", 403)])
def test_only_entrants_submit_entries(request, client, contest, role, expected):
    """Judges and organizers have no "Submit" in their menu: the form refuses them too."""
    log_in(client, request.getfixturevalue(role))
    assert client.get("/entries/new", headers=EN).status_code == expected


def test_the_ranking_is_in_the_menu_only_while_counts_are_public(client, db, contest):
    contest.vote_counts = VoteCountDisplay.after_close
    contest.voting_closes_at = now_utc() + timedelta(days=3)
    db.commit()
    assert "/ranking" not in menu_links(client.get("/rules", headers=EN).get_data(as_text=True))

    contest.voting_opens_at = now_utc() - timedelta(days=10)
    contest.voting_closes_at = now_utc() - timedelta(days=1)
    db.commit()
    assert "/ranking" in menu_links(client.get("/rules", headers=EN).get_data(as_text=True))


@pytest.fixture
def cache_on(app, monkeypatch):
    """The page cache on, the contest's version looked at on every request."""
    monkeypatch.setitem(app.config, "GALLERY_CACHE_S", 3600)
    monkeypatch.setattr("contest.gallery.views.VERSION_CHECK_S", 0)
    monkeypatch.setattr("contest.main.nav.VERSION_CHECK_S", 0)
    caches = app.extensions["gallery_cache"]
    caches.clear()
    yield caches
    caches.clear()


def test_a_kept_gallery_page_follows_the_ranking_and_holds_no_visitors_menu(
    app, db, contest, entrant, cache_on
):
    anonymous, member = app.test_client(), app.test_client()
    log_in(member, entrant)
    anonymous.get("/gallery", headers=EN)  # the first answer sets the visitor's cookie
    kept = anonymous.get("/gallery", headers=EN)
    assert kept.cache_control.public and "/ranking" in menu_links(kept.get_data(as_text=True))
    own = member.get("/gallery", headers=EN).get_data(as_text=True)
    assert "/entries/mine" in menu_links(own)
    assert "/entries/mine" not in menu_links(anonymous.get("/gallery", headers=EN).get_data(as_text=True))

    contest.vote_counts = VoteCountDisplay.after_close  # voting closes later: counts hidden
    contest.voting_closes_at = now_utc() + timedelta(days=3)
    db.commit()
    assert "/ranking" not in menu_links(anonymous.get("/gallery", headers=EN).get_data(as_text=True))


def test_one_reminder_to_confirm_the_address(client, db, contest):
    unverified = create_user(db, UNVERIFIED, verified=False)
    log_in(client, unverified)
    for path in ("/", "/gallery", "/rules"):
        page = client.get(path, headers=EN).get_data(as_text=True)
        assert page.count('class="banner"') == 1, path
    # Submitting first needs the address: the page that says so, and nothing else saying it.
    page = client.get("/entries/new", headers=EN, follow_redirects=True).get_data(as_text=True)
    assert "We sent an e-mail to unverified@example.com" in page
    assert 'class="banner"' not in page and 'class="flash' not in page


# --- in the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A served app over a migrated SQLite database with the demo's photos; its base URL."""
    folder = tmp_path_factory.mktemp("header-site")
    config = make_test_config(folder, f"sqlite:///{folder / 'site.sqlite'}")
    migrate(config["DATABASE_URL"])
    app = create_app(config)
    with app.app_context():
        seed = seed_demo(site_db.session)
        demo_gallery.seed_demo_gallery(site_db.session, seed.contest, with_video=False)
        create_user(site_db.session, UNVERIFIED, verified=False, role=Role.entrant)
        site_db.session.commit()
    with live_server(app) as url:
        yield url
    app.extensions["db"].dispose()


def open_as(browser_page, url: str, size: tuple[int, int], lang: str, path: str, login=None):
    page = browser_page.page
    page.set_viewport_size({"width": size[0], "height": size[1]})
    if login:
        page.goto(f"{url}/account/login", wait_until="load")
        form = page.locator("main form").filter(has=page.locator("input[name=password]"))
        form.locator("input[name=email]").fill(login[0])
        form.locator("input[name=password]").fill(login[1])
        form.locator("[type=submit]").click()
        page.wait_for_load_state("load")
        assert "/account/login" not in page.url
    response = page.goto(f"{url}/language/{lang}?next={path}", wait_until="load")
    assert response.status == 200
    return page


def rect(page, selector: str) -> dict:
    return page.locator(selector).first.evaluate("e => e.getBoundingClientRect().toJSON()")


def small_targets(page, scope: str) -> list[str]:
    """The visible links, buttons and menu buttons in ``scope`` smaller than 44x44 px."""
    return page.evaluate(
        """([scope, least]) => Array.from(document.querySelectorAll(scope + ' :is(a, button, summary)'))
            .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
            .map(e => [e.textContent.trim(), e.getBoundingClientRect()])
            .filter(([, r]) => r.width < least || r.height < least)
            .map(([text, r]) => `${text}: ${Math.round(r.width)}x${Math.round(r.height)}`)""",
        [scope, TAP_MIN_PX],
    )


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


SIZES = pytest.mark.parametrize("size", [PHONE, LAPTOP], ids=["phone", "laptop"])
LANGS = pytest.mark.parametrize("lang", ["vi", "en"])


@pytest.mark.browser
@SIZES
@LANGS
@pytest.mark.parametrize("who", ["anonymous", "entrant"])
def test_the_header_is_a_bar_and_the_first_photo_is_on_the_first_screen(site, browser_page, size, lang, who):
    page = open_as(browser_page, site, size, lang, "/gallery", DEMO_ENTRANT if who == "entrant" else None)
    assert rect(page, ".site-header")["height"] <= HEADER_MAX_PX
    photo = rect(page, ".gallery-grid img")
    assert photo["top"] >= 0 and photo["bottom"] <= size[1], "the first photo is seen without scrolling"
    assert page.locator(".gallery-grid img").first.evaluate("img => img.complete && img.naturalWidth > 0")
    assert small_targets(page, ".site-header") == []
    assert overflow(page) <= 0
    if size == PHONE:
        page.locator(".menu-button").click()
        assert page.locator(".site-nav").is_visible()
        assert small_targets(page, ".site-header") == []
        assert overflow(page) <= 0
        assert page.locator(".gallery-filters").is_hidden()  # folded into one line
    else:
        assert page.locator(".menu-button").is_hidden() and page.locator(".nav-links").is_visible()
        assert page.locator(".gallery-filters").is_visible()
    assert browser_page.problems() == []


@pytest.mark.browser
@LANGS
def test_the_menu_opens_and_closes_by_click_and_keyboard(site, browser_page, lang):
    page = open_as(browser_page, site, PHONE, lang, "/rules")
    button, nav = page.locator(".menu-button"), page.locator(".site-nav")
    assert nav.is_hidden()
    button.click()
    assert nav.is_visible()
    page.mouse.click(PHONE[0] // 2, PHONE[1] - 10)  # a click elsewhere (below the open menu) closes it
    assert nav.is_hidden()

    button.focus()
    page.keyboard.press("Enter")
    assert nav.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.site-nav') !== null")
    page.keyboard.press("Escape")
    assert nav.is_hidden()
    assert page.evaluate("document.activeElement.classList.contains('menu-button')"), (
        "focus back on the button"
    )
    page.keyboard.press("Space")
    assert nav.is_visible()
    page.keyboard.press("Escape")
    assert nav.is_hidden()
    assert browser_page.problems() == []


@pytest.mark.browser
@LANGS
def test_the_gallery_filters_fold_into_one_line_that_says_what_is_chosen(site, browser_page, lang):
    page = open_as(browser_page, site, PHONE, lang, "/gallery?category=photo%26q=sen")
    line = page.locator(".gallery-filter-line")
    assert rect(page, ".gallery-filter-line")["height"] <= 56
    assert "“sen”" in line.inner_text()
    assert page.locator(".gallery-filters").is_hidden()
    line.click()
    assert page.locator(".gallery-filters").is_visible()
    assert page.input_value("input[name=q]") == "sen"
    assert browser_page.problems() == []


@pytest.mark.browser
def test_the_skip_link_moves_the_focus_to_the_content(site, browser_page):
    page = open_as(browser_page, site, PHONE, "en", "/gallery")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    box = rect(page, ".skip-link")
    assert box["top"] >= 0 and box["height"] >= TAP_MIN_PX, "seen when it has the focus"
    assert skip.inner_text() == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


def luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def tab_to(page, selector: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"the keyboard never reached {selector}")


def ring(page) -> dict:
    return page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); "
        "return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor}; }"
    )


@pytest.mark.browser
@SIZES
def test_the_focus_ring_is_seen_on_the_bar_the_page_and_the_photo(site, browser_page, size, tmp_path):
    page = open_as(browser_page, site, size, "en", "/gallery")
    grounds = [(".brand", "rgb(31, 111, 74)")]  # the green bar
    grounds.append((".gallery-card-link", "rgb(246, 248, 247)"))  # the page
    for selector, ground in grounds:
        tab_to(page, selector)
        seen = ring(page)
        assert seen["style"] == "solid" and seen["width"] >= 3, selector
        assert contrast(seen["color"], ground) >= 3, (selector, seen)
    code = page.locator(".gallery-card-link").first.get_attribute("href")
    page.goto(f"{site}{code}", wait_until="load")
    tab_to(page, ".entry-media a, .entry-media button")
    seen = ring(page)
    assert seen["style"] == "solid" and seen["width"] >= 3
    assert contrast(seen["color"], "rgb(17, 17, 17)") >= 3, "seen on the dark photo frame"
    page.screenshot(path=str(tmp_path / "focus-on-the-photo.png"))
    assert browser_page.problems() == []


@pytest.mark.browser
@LANGS
def test_an_unverified_entrant_is_reminded_once(site, browser_page, lang):
    page = open_as(browser_page, site, PHONE, lang, "/", (UNVERIFIED, PASSWORD))

    def reminders() -> int:
        """The banner, flashed messages and page headings that ask to confirm the address."""
        said = re.compile(re.escape(CONFIRM[lang]), re.IGNORECASE)
        return page.locator(".banner, .flash, main h1").filter(has_text=said).count()

    assert reminders() == 1
    page.goto(f"{site}/gallery", wait_until="load")
    assert reminders() == 1
    page.locator(".menu-button").click()
    page.locator('.nav-links a[href="/entries/new"]').click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/account/unverified")
    assert reminders() == 1
    assert browser_page.problems() == []
