"""The journeys' page checks: each page of a journey is checked the same way, and kept as a screenshot.

A page passes when it is no wider than the screen, has no script error nor Content-Security-Policy
violation, and axe-core (tests/vendor/axe-core, evaluated in the page through the DevTools
protocol, which the page's policy does not govern) finds no serious or critical violation.
Screenshots go to .artifacts/journeys/<journey>-<size>-<lang>-<n>-<step>.png, kept after the run;
when a journey fails, the whole page it failed on is kept apart, in
.artifacts/journey-failures/<journey>-<size>-<lang>-<last step>.png.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from babel.dates import format_date

from contest.config import ROOT
from contest.timeutil import vn_today
from tests.browser import BrowserPage
from tests.support import PASSWORD

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
ARTIFACTS = ROOT / ".artifacts" / "journeys"
FAILURES = ROOT / ".artifacts" / "journey-failures"
SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}
LOCALES = {"vi": "vi-VN", "en": "en-US"}
MIN_TAP_PX = 44

_RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => v.id + " (" + v.impact + "): " + v.nodes.slice(0, 5).map(n => n.target.join(" ")).join(" | "));
}"""

_TOO_WIDE = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  return [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > width + 1 && getComputedStyle(e).position !== "fixed")
    .slice(0, 5)
    .map(e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).trim().replace(/\\s+/g, ".") : "")
      + " right=" + Math.round(e.getBoundingClientRect().right));
}"""

_ZOOM_SETTLED = """picture => {
  const r = picture.getBoundingClientRect();
  const box = [r.x, r.y, r.width, r.height].map(Math.round).join();
  const still = window.__zoomBox === box;
  window.__zoomBox = box;
  const focused = document.activeElement && !!document.activeElement.closest("[role=dialog], dialog");
  const moving = document.getAnimations().some(a => a.playState === "running"
    && a.effect.getComputedTiming().iterations !== Infinity);
  return still && focused && !moving;
}"""

# document.documentElement.scrollWidth <= innerWidth, beside the check above (which leaves a vertical scroll bar out).
_WIDER_THAN_WINDOW = "() => document.documentElement.scrollWidth > window.innerWidth"

# Interactive elements drawn on screen (a visually-hidden skip link, 1 px wide, is not a target).
_SMALL_TARGETS = """([selector, minimum]) => {
  const scope = document.querySelectorAll(selector);
  const targets = [];
  scope.forEach(root => root.querySelectorAll("a[href], button, summary, input:not([type=hidden]), select, [role=button]")
    .forEach(e => targets.push(e)));
  return targets.filter(e => {
    const r = e.getBoundingClientRect();
    const style = getComputedStyle(e);
    return r.width > 1 && r.height > 1 && style.visibility !== "hidden" && (r.width < minimum || r.height < minimum);
  }).map(e => (e.textContent.trim() || e.getAttribute("aria-label") || e.tagName) + " "
    + Math.round(e.getBoundingClientRect().width) + "x" + Math.round(e.getBoundingClientRect().height));
}"""

_SCROLL_THROUGH = """async () => {
  for (let y = 0; y < document.body.scrollHeight; y += window.innerHeight / 2) {
    window.scrollTo(0, y);
    await new Promise(done => setTimeout(done, 50));
  }
  const pending = [...document.images].filter(i => !i.complete);
  await Promise.race([
    Promise.all(pending.map(i => new Promise(done => { i.onload = i.onerror = done; }))),
    new Promise(done => setTimeout(done, 3000)),
  ]);
  window.scrollTo(0, 0);
}"""

_FOCUS_RING = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), text: e.textContent.trim().slice(0, 60),
          outlineStyle: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth) || 0,
          outlineColor: s.outlineColor, boxShadow: s.boxShadow};
}"""


@dataclass
class Journey:
    """One journey of one user at one screen size in one language, in its own browser context."""

    watched: BrowserPage
    base_url: str
    name: str
    size: str
    lang: str
    shots: list[Path] = field(default_factory=list)
    # (text, address) of each console message of type "error", and the addresses that were
    # meant to fail (a page opened for its 404): the browser logs those as errors too.
    console_errors: list[tuple[str, str]] = field(default_factory=list)
    meant_to_fail: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.page.on("console", self._on_console)

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append((message.text, (message.location or {}).get("url", "")))

    @property
    def page(self):
        return self.watched.page

    def go(self, path: str, step: str, *, status: int = 200, axe: bool = True):
        if status >= 400:
            self.meant_to_fail.add(self.base_url + path)
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response is not None and response.status == status, f"{step}: {path} gave {response.status}"
        self.check(step, axe=axe)
        return response

    def check(self, step: str, *, axe: bool = True) -> None:
        """The page now on screen: screenshot, width, scripts, console and policy, axe-core."""
        self.page.wait_for_load_state("load")
        self.screenshot(step)
        where = f"{self.name} {self.size} {self.lang}, {step} ({self.page.url})"
        assert self.page.evaluate(_TOO_WIDE) == [], f"{where}: wider than the screen"
        assert self.page.evaluate(_WIDER_THAN_WINDOW) is False, f"{where}: wider than the window"
        # What went wrong since the last check, forgotten once read: each step reports its own.
        problems = self.watched.problems()
        logged = [text for text, url in self.console_errors if url not in self.meant_to_fail]
        self.watched.console.clear()
        self.watched.errors.clear()
        self.console_errors.clear()
        assert problems == [], f"{where}: script errors or policy violations: {problems}"
        assert logged == [], f"{where}: errors in the console: {logged}"
        if axe:
            found = self.axe_violations()
            assert found == [], f"{where}: axe-core: {found}"
        assert self.page.evaluate("document.documentElement.lang") == self.lang, f"{where}: page language"

    def screenshot(self, step: str) -> Path:
        if not self.shots:  # this journey's screenshots of an earlier run go
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            for old in ARTIFACTS.glob(f"{self.name}-{self.size}-{self.lang}-*.png"):
                old.unlink()
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = ARTIFACTS / f"{self.name}-{self.size}-{self.lang}-{len(self.shots) + 1:02d}-{slug}.png"
        self.page.screenshot(path=str(path))
        self.shots.append(path)
        return path

    def keep_failure(self) -> Path:
        """The whole page the journey failed on, kept apart and named by its last step."""
        FAILURES.mkdir(parents=True, exist_ok=True)
        last = self.shots[-1].stem.split("-", 4)[-1] if self.shots else "start"
        path = FAILURES / f"{self.name}-{self.size}-{self.lang}-after-{last}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def whole_page(self) -> Path:
        """The last step's page from top to bottom, beside its first screen."""
        path = self.shots[-1].with_name(self.shots[-1].stem + "-whole.png")
        self.page.evaluate(_SCROLL_THROUGH)  # lazy pictures load as a reader scrolls to them
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def axe_violations(self) -> list[str]:
        if not self.page.evaluate("typeof window.axe === 'object'"):
            self.page.evaluate(AXE_SOURCE)
        return self.page.evaluate(_RUN_AXE)

    def small_targets(self, selector: str) -> list[str]:
        return self.page.evaluate(_SMALL_TARGETS, [selector, MIN_TAP_PX - 0.5])

    def focus_ring(self) -> dict | None:
        return self.page.evaluate(_FOCUS_RING)

    def log_in(self, email: str, password: str) -> None:
        self.go("/account/login", "log in")
        self.fill_login(email, password)

    def fill_login(self, email: str, password: str) -> None:
        """Log in through the login form on the page."""
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", password)
        with self.page.expect_navigation(wait_until="load"):
            self.page.locator("main form [type=submit]").last.click()


def visible_focus(ring: dict | None) -> bool:
    """An outline at least 2 px wide, or a box shadow, drawn around the focused element."""
    if ring is None:
        return False
    outlined = ring["outlineStyle"] != "none" and ring["outlineWidth"] >= 2
    return outlined or ring["boxShadow"] not in ("", "none")


def screen_box(page, selector: str) -> dict:
    """The element's box relative to the first screen (scrolled to the top)."""
    return page.evaluate(
        "s => { const r = document.querySelector(s).getBoundingClientRect(); "
        "return {top: r.top, bottom: r.bottom, height: r.height, screen: window.innerHeight}; }",
        selector,
    )


def read_as_people_do(moment, lang: str) -> str:
    """A date in Vietnam time as people read it: "2 tháng 2, 2027", "2 February 2027"."""
    day = vn_today(moment)
    return (
        format_date(day, "long", locale="vi") if lang == "vi" else format_date(day, "d MMMM y", locale="en")
    )


# --- steps of the journeys -------------------------------------------------------------------
def follow_menu(journey: Journey, path: str, step: str) -> None:
    """Open the menu where it folds (a phone), check its tap targets, and follow its link to ``path``."""
    page = journey.page
    button = page.locator("header summary.menu-button")
    if button.is_visible():
        button.click()
        page.locator("header nav").wait_for(state="visible")
        journey.screenshot("menu")
    assert journey.small_targets("header") == [], "header and menu tap targets under 44 px"
    with page.expect_navigation(wait_until="load"):
        page.locator(f"header nav a[href$='{path}']").first.click()
    assert urlparse(page.url).path == path
    journey.check(step)


def open_and_close_zoom(journey: Journey, *, by_keyboard: bool) -> None:
    """Zoom opens as a dialog with the picture fitted to the screen, and closes back to its opener."""
    page = journey.page
    opener = page.locator("[data-zoom]").first
    if by_keyboard:
        tab_to(page, "[data-zoom]")
        page.keyboard.press("Enter")
    else:
        opener.click()
    dialog = page.locator("[role=dialog]:visible, dialog[open]").first
    dialog.wait_for(state="visible")
    picture = dialog.locator("img:visible").first
    picture.wait_for(state="visible")
    # Opened: the focus in the dialog, no transition running, and the picture where it was
    # 100 ms before (no fixed pause; the wait's time limit fails the journey).
    page.wait_for_function(_ZOOM_SETTLED, arg=picture.element_handle(), polling=100)
    box = picture.bounding_box()
    screen = SIZES[journey.size]
    assert box["width"] <= screen["width"] + 1 and box["height"] <= screen["height"] + 1, box

    journey.check("zoom")
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.matches('[data-zoom]')"), "focus back on the picture"


def tab_to(page, selector: str, presses: int = 60) -> None:
    """Press Tab until ``selector`` has the focus, as a keyboard user would."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the focus after {presses} presses of Tab")


def follow_mail(journey: Journey, email: str, link_path: str, step: str) -> None:
    """Follow the link under ``link_path`` of the newest e-mail to ``email`` in the development mailbox."""
    page = journey.page
    journey.go("/dev/mailbox/", "mailbox")
    mail = page.locator("article, li, tr, section").filter(has_text=email).first
    link = mail.locator(f"a[href*='{link_path}']").first.get_attribute("href")
    journey.go(urlparse(link).path, step)


def confirm_email(journey: Journey, email: str) -> None:
    """Follow the link of the confirmation e-mail, then log in."""
    follow_mail(journey, email, "/account/verify/", "e-mail confirmed")
    journey.fill_login(email, PASSWORD)
    journey.check("logged in")


def open_from_my_entries(journey: Journey, code: str, step: str) -> None:
    page = journey.page
    with page.expect_navigation(wait_until="load"):
        page.locator(f"main a[href$='/e/{code}']").first.click()
    assert urlparse(page.url).path == f"/e/{code}"
    journey.check(step)
