"""The journeys' page checks: each page of a journey is checked the same way, and kept as a screenshot.

A page passes when it is no wider than the screen, has no script error nor Content-Security-Policy
violation, and axe-core (tests/vendor/axe-core, evaluated in the page through the DevTools
protocol, which the page's policy does not govern) finds no serious or critical violation.
Screenshots go to .artifacts/journeys/<journey>-<size>-<lang>-<n>-<step>.png, kept after the run.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from babel.dates import format_date
from sqlalchemy import delete, select

from contest.admin import moderation
from contest.auth.models import Role, User
from contest.config import ROOT
from contest.contests.models import CategoryKind, Contest
from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus
from contest.extensions import db
from contest.jury.members import add_judge
from contest.jury.models import RoundKind
from contest.jury.rounds import CriterionSpec, RoundSpec, create_round, open_round
from contest.processing.models import JobState, ProcessingJob
from contest.results.prizes import Award, PrizeKind, PrizeSlot, Publication, PublicationState
from contest.timeutil import vn_today
from tests.browser import BrowserPage
from tests.support import create_user
from worker.tasks import run_media_job

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
ARTIFACTS = ROOT / ".artifacts" / "journeys"
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

    @property
    def page(self):
        return self.watched.page

    def go(self, path: str, step: str, *, status: int = 200, axe: bool = True):
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response is not None and response.status == status, f"{step}: {path} gave {response.status}"
        self.check(step, axe=axe)
        return response

    def check(self, step: str, *, axe: bool = True) -> None:
        """The page now on screen: screenshot, width, scripts and policy, axe-core."""
        self.page.wait_for_load_state("load")
        self.screenshot(step)
        where = f"{self.name} {self.size} {self.lang}, {step} ({self.page.url})"
        assert self.page.evaluate(_TOO_WIDE) == [], f"{where}: wider than the screen"
        problems = self.watched.problems()
        assert problems == [], f"{where}: script errors or policy violations: {problems}"
        self.watched.console.clear()
        self.watched.errors.clear()
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


# --- the site's state, as the journeys need it -------------------------------------------------
def _contest():
    return db.session.scalar(select(Contest))


@contextmanager
def contest_in_phase(app, submissions, votes, results_in: int, *, published: bool):
    """The contest's dates moved to days from now (Vietnam time), its results published if asked;
    yields the next dates (submissions close, votes close, results); all put back afterwards."""
    now = now_utc() + timedelta(hours=1)
    fields = (
        "submission_opens_at",
        "submission_closes_at",
        "voting_opens_at",
        "voting_closes_at",
        "results_at",
    )
    moved = [now + timedelta(days=d) for d in (*submissions, *votes, results_in)]
    with app.app_context():
        contest = _contest()
        saved = [getattr(contest, name) for name in fields]
        for name, value in zip(fields, moved, strict=True):
            setattr(contest, name, value)
        if published:
            _publish(contest, now - timedelta(days=2))
        db.session.commit()
    try:
        yield moved[1], moved[3], moved[4]
    finally:
        with app.app_context():
            contest = _contest()
            for name, value in zip(fields, saved, strict=True):
                setattr(contest, name, value)
            db.session.execute(delete(Award))
            db.session.execute(delete(Publication))
            db.session.commit()


def _publish(contest, at) -> None:
    """The first jury prize of the photo category given to its first entry, and published."""
    slot = db.session.scalars(
        select(PrizeSlot).where(PrizeSlot.contest_id == contest.id, PrizeSlot.kind == PrizeKind.jury)
    ).first()
    entry = db.session.scalars(
        select(Entry).where(Entry.category_id == slot.category_id, Entry.status == EntryStatus.approved)
    ).first()
    organizer = db.session.scalar(select(User).where(User.role == Role.organizer))
    award = Award(slot_id=slot.id, kind=slot.kind, category_id=slot.category_id, place=1, entry_id=entry.id)
    award.assigned_by_id, award.reason = organizer.id, "The journeys' winner"
    db.session.add(award)
    state = PublicationState.published
    db.session.add(Publication(contest_id=contest.id, state=state, frozen_at=at, published_at=at))


def run_pending_jobs(app) -> None:
    """What the worker does with the queued media jobs (the tests dispatch none)."""
    with app.app_context():
        pending = db.session.scalars(
            select(ProcessingJob.id).where(ProcessingJob.state == JobState.queued)
        ).all()
        db.session.rollback()
        for job_id in pending:
            run_media_job(job_id)


def approve(app, code: str) -> None:
    with app.app_context():
        entry = db.session.scalar(select(Entry).where(Entry.code == code))
        organizer = db.session.scalar(select(User).where(User.role == Role.organizer))
        moderation.approve(db.session, entry, organizer)
        db.session.commit()


def pending_entry(app, title: str) -> str:
    """An entry waiting for review, with the files of an approved one."""
    with app.app_context():
        contest = _contest()
        model = db.session.scalar(
            select(Entry).where(Entry.status == EntryStatus.approved).order_by(Entry.id)
        )
        entry = Entry(
            code=contest.next_entry_code(db.session),
            contest_id=contest.id,
            category_id=model.category_id,
            author_id=model.author_id,
            place_id=model.place_id,
            title=title,
            taken_on=model.taken_on,
            status=EntryStatus.pending_review,
            submitted_at=now_utc(),
        )
        db.session.add(entry)
        db.session.commit()
        return entry.code


def entry_codes(app) -> dict[str, str]:
    """The code of the first approved entry of each category kind."""
    with app.app_context():
        entries = db.session.scalars(
            select(Entry).where(Entry.status == EntryStatus.approved).order_by(Entry.id)
        )
        return {entry.category.kind.value: entry.code for entry in reversed(entries.all())}


def open_jury_round(app, judge_email: str) -> int:
    """A score round of the photo category, open, with ``judge_email`` on the jury; its id."""
    with app.app_context():
        contest = _contest()
        judge = db.session.scalar(select(User).where(User.email == judge_email))
        organizer = db.session.scalar(select(User).where(User.role == Role.organizer))
        add_judge(db.session, contest.id, judge, actor_id=organizer.id)
        photo = next(c for c in contest.categories if c.kind is CategoryKind.photo)
        now = now_utc()
        spec = RoundSpec(
            name_vi="Vòng sơ khảo",
            name_en="Preliminary round",
            kind=RoundKind.score,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=7),
            categories=(photo,),
            quorum=1,
            criteria=(
                CriterionSpec("Nội dung", "Content", weight=1, scale_min=0, scale_max=10, scale_step=1),
            ),
        )
        round_ = create_round(db.session, contest, spec, actor_id=organizer.id)
        open_round(db.session, round_, actor_id=organizer.id, seed=7)
        db.session.commit()
        return round_.id


def verified_user(app, email: str, lang: str) -> None:
    with app.app_context():
        create_user(db.session, email, locale=lang)
