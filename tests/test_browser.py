"""The entry page under its Content-Security-Policy, in headless Chromium.

A real HTTP server on loopback serves an app of its own over a migrated SQLite database
and a local media folder, seeded with demo entries whose renditions the worker's own code
made (a photo, a photo series, a video). Zoom, the series' arrows, the video player and the
share buttons must work with no policy violation, no script error; the entry form's script
too (it puts the chosen category into the form's address for the early size check).
"""

from __future__ import annotations

import pytest

from tests.demo_site import served_demo_site

pytestmark = pytest.mark.browser
ENTRANT = ("entrant@demo.happynghean.vn", "demo-entrant-2025")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The served app's base URL and the codes of its entries by category slug."""
    with served_demo_site(tmp_path_factory.mktemp("browser-site")) as served:
        yield served


def open_entry(browser_page, url: str, code: str):
    page = browser_page.page
    response = page.goto(f"{url}/e/{code}", wait_until="load")
    assert response.status == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    return page


def test_zoom_and_sharing_work_under_the_policy(site, browser_page):
    url, codes = site
    page = open_entry(browser_page, url, codes["photo"])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)

    page.locator("[data-zoom]").first.click()  # the zoom's dialog (tests/test_viewer.py for the rest)
    page.wait_for_function(
        "() => { const img = document.querySelector('.pswp img.pswp__img:not(.pswp__img--placeholder)');"
        " return img && img.complete && img.naturalWidth > 0; }"
    )
    page.keyboard.press("Escape")
    page.locator(".pswp").wait_for(state="detached")

    page.locator("[data-copy-link]").click()
    message = page.locator("[data-share-message]")
    message.filter(has_text="Link copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == page.input_value("[data-share-url]")
    page.locator("[data-share-zalo]").click()  # no Zalo account set: the link is copied for a chat
    message.filter(has_text="paste it in a Zalo chat").wait_for()
    assert page.evaluate("document.querySelector('img.qr-code').naturalWidth") > 0

    assert browser_page.problems() == []


def test_the_series_arrows_scroll_under_the_policy(site, browser_page):
    url, codes = site
    page = open_entry(browser_page, url, codes["photo-series"])
    page.locator(".series-next").first.click()
    # Smooth scrolling to the second photo: the track stops one width along.
    page.wait_for_function(
        "() => { const t = document.querySelector('[data-series-track]'); "
        "return Math.abs(t.scrollLeft - t.clientWidth) < 2; }"
    )
    assert page.url.endswith(codes["photo-series"])  # scrolled by the script, not a jump to #photo-2
    assert browser_page.problems() == []


def test_the_video_plays_under_the_policy(site, browser_page):
    url, codes = site
    page = open_entry(browser_page, url, codes["video"])
    video = page.locator("video.entry-video")
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('video.entry-video').currentTime > 0.3")
    assert video.evaluate("v => v.videoWidth") > 0
    assert browser_page.problems() == []


def test_the_entry_forms_script_runs_under_the_policy(site, browser_page):
    url, _codes = site
    page = browser_page.page
    page.goto(f"{url}/account/login", wait_until="load")
    page.fill("input[name=email]", ENTRANT[0])
    page.fill("input[name=password]", ENTRANT[1])
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("load")
    page.goto(f"{url}/entries/new", wait_until="load")
    video_choice = page.locator("input[name=category][data-kind=video]")
    video_choice.check()
    category = video_choice.get_attribute("value")
    assert page.get_attribute("#new-entry", "action").endswith(f"/entries/new?category={category}")
    assert page.locator("[data-for-kind=photo]").is_hidden()
    assert page.locator("[data-for-kind=video]").is_visible()
    assert browser_page.problems() == []


def test_the_watch_sees_a_violation(site, browser_page):
    """The checks above can fail: an inline script, refused by the policy, is reported."""
    url, codes = site
    page = open_entry(browser_page, url, codes["photo"])
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.x = 1'; document.body.append(s); }"
    )
    page.wait_for_function("() => window.__cspViolations.length > 0")
    assert browser_page.problems()
    assert page.evaluate("window.x") is None
