"""The viewer, in headless Chromium at a phone's size and a laptop's: the zoom (PhotoSwipe) and
the video's quality menu.

A real HTTP server serves an app over a migrated SQLite database and a local media folder,
seeded with demo entries whose renditions the worker's own code made (a photo, a photo series,
a video with its 720p and 480p renditions). The zoom is a dialog: opened by a click, Enter or
Space, fitted to the screen, the focus kept inside, closed by Escape or its button with the
focus back on the picture; a series goes next and previous inside it. The player lists its
renditions best first and a choice changes what plays. Without JavaScript the picture and a
plain player still show. No script error, no policy violation.
"""

from __future__ import annotations

import pytest

from contest.contests.models import CategoryKind
from tests.browser import watched_page
from tests.demo_site import served_demo_site
from tests.journeys_support import AXE_SOURCE
from tests.support import create_user, make_entry
from tests.test_gallery import EN, add_video_renditions, tags

SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}
DIALOG = ".pswp[role=dialog]"
LOADED_PHOTOSWIPE = "() => performance.getEntriesByType('resource').some(r => r.name.includes('photoswipe'))"
FOCUS_IN_DIALOG = "() => !!document.activeElement.closest('.pswp')"
_RUN_AXE_ON = """async (selector) => {
  const result = await axe.run({include: [[selector]]}, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + " (" + v.impact + "): " + v.nodes.slice(0, 5).map(n => n.target.join(" ")).join(" | "));
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The served app's base URL and the codes of its entries by category slug."""
    with served_demo_site(tmp_path_factory.mktemp("viewer-site")) as served:
        yield served


@pytest.fixture(params=sorted(SIZES))
def viewer(request, chromium):
    """A watched page at a phone's size, then a laptop's."""
    context = chromium.new_context(viewport=SIZES[request.param], locale="en-US")
    yield watched_page(context)
    context.close()


def open_entry(watched, url: str, code: str):
    page = watched.page
    assert page.goto(f"{url}/e/{code}", wait_until="load").status == 200
    return page


def axe_on(page, selector: str) -> list[str]:
    """axe-core's serious and critical findings in the part of the page under ``selector``."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(_RUN_AXE_ON, selector)


def wait_for_picture(page) -> dict:
    """The zoom's picture once loaded (not its placeholder): its box on the screen."""
    page.wait_for_function(
        "() => { const img = document.querySelector('.pswp__item[aria-hidden=false] img.pswp__img:not(.pswp__img--placeholder)');"
        " return img && img.complete && img.naturalWidth > 0; }"
    )
    page.wait_for_timeout(400)  # the opening animation ends
    return page.evaluate(
        "() => { const r = document.querySelector('.pswp__item[aria-hidden=false] img.pswp__img:not(.pswp__img--placeholder)')"
        ".getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; }"
    )


def assert_fitted(box: dict, viewport: dict) -> None:
    """Whole on the screen, as large as the screen allows on one side."""
    assert box["x"] >= -1 and box["y"] >= -1
    assert box["width"] <= viewport["width"] + 1 and box["height"] <= viewport["height"] + 1
    assert abs(box["width"] - viewport["width"]) < 2 or abs(box["height"] - viewport["height"]) < 2


@pytest.mark.browser
def test_a_click_opens_the_zoom_fitted_and_escape_returns_the_focus(site, viewer):
    url, codes = site
    page = open_entry(viewer, url, codes["photo"])
    link = page.locator("a[data-zoom]")
    assert link.get_attribute("aria-haspopup") == "dialog"
    assert not page.evaluate(LOADED_PHOTOSWIPE)  # the first view stays light: loaded when wanted

    link.click()
    dialog = page.locator(DIALOG)
    dialog.wait_for()
    assert dialog.get_attribute("aria-modal") == "true"
    assert dialog.get_attribute("aria-label") == "Photo viewer"
    assert_fitted(wait_for_picture(page), page.viewport_size)
    assert page.evaluate(FOCUS_IN_DIALOG)
    assert axe_on(page, ".pswp") == []
    for _ in range(8):  # the close and zoom buttons, then round again: never out to the page
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUS_IN_DIALOG)

    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    assert page.evaluate("document.activeElement.matches('a[data-zoom]')")
    assert viewer.problems() == []


@pytest.mark.parametrize("key", ["Enter", " "])
@pytest.mark.browser
def test_the_keyboard_opens_the_zoom_and_its_button_closes_it(site, viewer, key):
    url, codes = site
    page = open_entry(viewer, url, codes["photo"])
    page.locator("a[data-zoom]").focus()

    page.keyboard.press(key)
    page.locator(DIALOG).wait_for()
    assert_fitted(wait_for_picture(page), page.viewport_size)
    assert page.evaluate("window.scrollY") == 0  # Space opened the zoom, it did not scroll the page
    close = page.locator(".pswp__button--close")
    assert close.get_attribute("title") == "Close (Esc)"
    close.click()

    page.locator(DIALOG).wait_for(state="detached")
    assert page.evaluate("document.activeElement.matches('a[data-zoom]')")
    assert viewer.problems() == []


@pytest.mark.browser
def test_the_zoom_zooms_in_and_pans(site, viewer):
    url, codes = site
    page = open_entry(viewer, url, codes["photo"])
    page.locator("a[data-zoom]").click()
    page.locator(DIALOG).wait_for()
    fitted = wait_for_picture(page)

    page.keyboard.press("z")  # as the zoom button and a pinch do: to the large JPEG's own size
    page.wait_for_timeout(500)
    zoomed = current_box(page)
    assert zoomed["width"] > fitted["width"] * 1.3

    middle = (page.viewport_size["width"] / 2, page.viewport_size["height"] / 2)
    page.mouse.move(*middle)
    page.mouse.down()
    page.mouse.move(middle[0] - 60, middle[1] - 40, steps=8)
    page.mouse.up()
    page.wait_for_timeout(500)
    panned = current_box(page)
    assert panned["x"] < zoomed["x"] - 20  # the picture moved with the pointer
    assert viewer.problems() == []


def current_box(page) -> dict:
    return page.evaluate(
        "() => { const r = document.querySelector('.pswp__item[aria-hidden=false] img.pswp__img:not(.pswp__img--placeholder)')"
        ".getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; }"
    )


@pytest.mark.browser
def test_a_series_goes_next_and_previous_in_the_zoom(site, viewer):
    url, codes = site
    page = open_entry(viewer, url, codes["photo-series"])
    links = page.locator("[data-series-track] a[data-zoom]")
    hrefs = [links.nth(i).evaluate("a => a.href") for i in range(links.count())]
    assert len(hrefs) >= 3

    links.first.click()
    page.locator(DIALOG).wait_for()
    wait_for_picture(page)
    counter = page.locator(".pswp__counter")
    assert counter.inner_text() == f"1 / {len(hrefs)}"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert counter.inner_text() == f"3 / {len(hrefs)}"
    assert shown_src(page) == hrefs[2]
    page.keyboard.press("ArrowLeft")
    assert counter.inner_text() == f"2 / {len(hrefs)}"
    assert shown_src(page) == hrefs[1]

    page.keyboard.press("Escape")
    page.locator(DIALOG).wait_for(state="detached")
    # Back on the page at the photo seen last, with the focus on it.
    assert page.evaluate("document.activeElement.href") == hrefs[1]
    track = page.locator("[data-series-track]")
    assert track.evaluate("t => Math.round(t.scrollLeft / t.clientWidth)") == 1
    assert viewer.problems() == []


def shown_src(page) -> str:
    page.wait_for_timeout(450)  # the slide's move ends
    return page.evaluate(
        "() => document.querySelector('.pswp__item[aria-hidden=false] img.pswp__img:not(.pswp__img--placeholder)').src"
    )


@pytest.mark.browser
def test_the_series_arrow_keeps_the_focus_on_the_photo_shown(site, viewer):
    url, codes = site
    page = open_entry(viewer, url, codes["photo-series"])
    page.locator("#photo-1 .series-next").focus()

    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => { const t = document.querySelector('[data-series-track]'); return Math.abs(t.scrollLeft - t.clientWidth) < 2; }"
    )
    focused = page.evaluate(
        "() => { const a = document.activeElement; const r = a.getBoundingClientRect();"
        " return {slide: a.closest('[data-series-slide]').id, next: a.matches('.series-next'), left: r.left, right: r.right}; }"
    )
    assert focused["slide"] == "photo-2" and focused["next"]
    assert focused["left"] >= 0 and focused["right"] <= page.viewport_size["width"]  # on screen

    page.keyboard.press("Enter")  # the keyboard goes on from there
    page.wait_for_function(
        "() => { const t = document.querySelector('[data-series-track]'); return Math.abs(t.scrollLeft - 2 * t.clientWidth) < 2; }"
    )
    assert page.evaluate("document.activeElement.closest('[data-series-slide]').id") == "photo-3"
    assert viewer.problems() == []


@pytest.mark.browser
def test_the_player_offers_its_qualities_best_first_and_switches(site, viewer):
    url, codes = site
    page = open_entry(viewer, url, codes["video"])
    video = page.locator("video.entry-video")
    button = page.locator("[data-quality-button]")
    page.wait_for_function("() => document.querySelector('video.entry-video').readyState >= 1")
    assert button.is_visible() and button.inner_text().strip().endswith("720p")

    button.click()
    items = page.locator("[data-quality-menu] [role=menuitemradio]")
    assert items.all_inner_texts() == ["720p", "480p"]
    assert [items.nth(i).get_attribute("aria-checked") for i in range(2)] == ["true", "false"]
    assert page.evaluate("document.activeElement.dataset.label") == "720p"
    assert video.evaluate("v => v.videoHeight") == 720
    menu = page.locator("[data-quality-menu]").bounding_box()
    assert menu["x"] >= 0 and menu["x"] + menu["width"] <= page.viewport_size["width"]  # inside the screen
    assert all(items.nth(i).bounding_box()["height"] >= 44 for i in range(2))
    assert axe_on(page, "[data-player]") == []

    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('video.entry-video').videoHeight === 480")
    assert video.evaluate("v => v.currentSrc").endswith(items.nth(1).get_attribute("data-src"))
    page.wait_for_function(
        "() => { const v = document.querySelector('video.entry-video'); return !v.paused && v.currentTime > 0.2; }"
    )
    assert button.inner_text().strip().endswith("480p")
    assert page.locator("[data-quality-menu]").is_hidden()
    assert page.evaluate("document.activeElement.matches('[data-quality-button]')")
    assert viewer.problems() == []


@pytest.mark.browser
def test_without_javascript_the_picture_and_a_plain_player_show(site, chromium):
    url, codes = site
    context = chromium.new_context(viewport=SIZES["phone"], java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{url}/e/{codes['photo']}", wait_until="load")
        img = page.locator("a[data-zoom] img")
        assert img.is_visible() and img.evaluate("i => i.naturalWidth") > 0
        assert page.locator("a[data-zoom]").get_attribute("href").endswith(".jpg")

        page.goto(f"{url}/e/{codes['video']}", wait_until="load")
        assert page.locator("video.entry-video[controls]").is_visible()
        assert page.locator("[data-quality]").is_hidden()
    finally:
        context.close()


# --- the page as served: the menu's order ------------------------------------------------------
@pytest.fixture
def author(db):
    return create_user(db, "author@example.com", full_name="Trần Thị Hoa")


def test_the_menu_lists_the_renditions_best_first(client, db, contest, author, storage):
    video = make_entry(db, contest, author, kind=CategoryKind.video, title="Lễ hội đền Cuông")
    add_video_renditions(db, storage, video)

    response = client.get(f"/e/{video.code}", headers=EN)

    menu = tags(response, "button", role="menuitemradio")
    assert [item["data-label"] for item in menu] == ["1080p", "720p", "480p"]
    sources = tags(response, "source", type="video/mp4")
    assert sources[0]["data-label"] == "720p"  # what plays first: light enough for a phone
    assert [item["aria-checked"] for item in menu] == ["false", "true", "false"]
    assert {item["data-src"] for item in menu} == {source["src"] for source in sources}
    assert tags(response, "div", **{"data-quality": ""})[0].get("hidden") == ""  # shown by the script


@pytest.mark.browser
def test_a_pinch_zooms_the_picture_in(site, chromium):
    """Two fingers moving apart on a touch screen (DevTools' touch events) enlarge the picture."""
    url, codes = site
    context = chromium.new_context(viewport=SIZES["phone"], has_touch=True, is_mobile=True, locale="en-US")
    watched = watched_page(context)
    try:
        page = open_entry(watched, url, codes["photo"])
        page.locator("a[data-zoom]").tap()
        page.locator(DIALOG).wait_for()
        fitted = wait_for_picture(page)

        pinch(page, center=(195, 422), start=30, end=150)
        page.wait_for_timeout(600)
        assert current_box(page)["width"] > fitted["width"] * 1.5
        assert watched.problems() == []
    finally:
        context.close()


def pinch(page, center: tuple[int, int], start: int, end: int, steps: int = 10) -> None:
    cdp = page.context.new_cdp_session(page)
    x, y = center

    def fingers(gap: float) -> list[dict]:
        return [{"x": x - gap, "y": y, "id": 0}, {"x": x + gap, "y": y, "id": 1}]

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": fingers(start)})
    for step in range(1, steps + 1):
        gap = start + (end - start) * step / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": fingers(gap)})
        page.wait_for_timeout(16)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


@pytest.mark.browser
def test_the_player_goes_full_screen_with_its_menu(site, viewer):
    url, codes = site
    page = open_entry(viewer, url, codes["video"])
    button = page.locator("[data-fullscreen]")
    assert page.locator("video.entry-video").evaluate("v => v.controlsList.contains('nofullscreen')")

    button.click()
    page.wait_for_function("() => document.fullscreenElement === document.querySelector('[data-player]')")
    page.wait_for_function(
        "() => document.querySelector('[data-fullscreen]').getAttribute('aria-pressed') === 'true'"
    )
    quality = page.locator("[data-quality-button]")
    assert quality.is_visible()
    quality.click()
    assert page.locator("[data-quality-menu]").is_visible()  # the menu is there in full screen too
    page.keyboard.press("Escape")  # closes the menu
    button.click()
    page.wait_for_function("() => document.fullscreenElement === null")
    page.wait_for_function(
        "() => document.querySelector('[data-fullscreen]').getAttribute('aria-pressed') === 'false'"
    )
    assert viewer.problems() == []
