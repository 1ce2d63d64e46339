"""A new edition: the first one from the 2025 template, the next ones copied from the last.

A copy takes every setting of the source (categories and their rules, places still in use,
vote policy, prize slots, texts, logo and banner) with the new name and dates; never its entries,
votes, rounds or featured entry. Copies start unpublished, so that the running edition stays on
the public site until the organizers publish the new one. Services flush; the caller commits.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.contests.models import Category, Contest, Place
from contest.contests.template import EditionDates, EditionName, build_from_template
from contest.results.models import ResultsSettings
from contest.results.prizes import PrizeSlot

# The slug is a segment of storage keys (contest.storage): lower case, digits and inner hyphens.
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
CODE_PREFIX_RE = re.compile(r"^[A-Z0-9]{2,12}$")

# What makes an edition itself, never copied.
_OWN_COLUMNS = {
    "id",
    "slug",
    "code_prefix",
    "title_vi",
    "title_en",
    "is_published",
    "featured_entry_id",
    "entry_counter",
    "public_version",
    "created_at",
    *EditionDates.__dataclass_fields__,
}


class EditionRefused(ValueError):
    """A name or dates that cannot make an edition; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


def latest_edition(session: Session) -> Contest | None:
    """The edition a new one copies by default: the one whose submission opens last."""
    return session.scalars(select(Contest).order_by(Contest.submission_opens_at.desc()).limit(1)).first()


def create_edition(
    session: Session, name: EditionName, dates: EditionDates, *, source: Contest | None, actor_id: int | None
) -> Contest:
    """A new edition copied from ``source``, or from the 2025 template when there is none."""
    check_name(session, name)
    check_dates(dates)
    contest = (
        build_from_template(session, name, dates)
        if source is None
        else copy_edition(session, source, name, dates)
    )
    record(
        session,
        actor_id=actor_id,
        action="contest.created",
        subject_type="contest",
        subject_id=contest.id,
        contest_id=contest.id,
        details={"slug": contest.slug, "copied_from": source.slug if source else "template-2025"},
    )
    session.flush()
    return contest


def check_name(session: Session, name: EditionName) -> None:
    if not SLUG_RE.match(name.slug):
        raise EditionRefused(
            "slug",
            _l(
                "Use 1 to 40 lower-case letters, digits and hyphens, starting and ending with a letter or digit."
            ),
        )
    if session.scalar(select(Contest.id).where(Contest.slug == name.slug)) is not None:
        raise EditionRefused("slug", _l("Another contest already uses this address name."))
    if not CODE_PREFIX_RE.match(name.code_prefix):
        raise EditionRefused("code_prefix", _l("Use 2 to 12 capital letters or digits, without spaces."))
    if session.scalar(select(Contest.id).where(Contest.code_prefix == name.code_prefix)) is not None:
        raise EditionRefused("code_prefix", _l("Another contest already uses this code prefix."))
    if not name.title_vi.strip() or not name.title_en.strip():
        raise EditionRefused("title_vi", _l("Give the title in both languages."))


def check_dates(dates: EditionDates) -> None:
    if dates.submission_closes_at <= dates.submission_opens_at:
        raise EditionRefused("submission_closes_at", _l("Submission must close after it opens."))
    if dates.voting_closes_at <= dates.voting_opens_at:
        raise EditionRefused("voting_closes_at", _l("Voting must close after it opens."))
    if dates.results_at is not None and dates.results_at < dates.voting_closes_at:
        raise EditionRefused("results_at", _l("Results come after voting closes."))


def copy_edition(session: Session, source: Contest, name: EditionName, dates: EditionDates) -> Contest:
    years = dates.submission_opens_at.year - source.submission_opens_at.year
    contest = Contest(
        **_columns(source, _OWN_COLUMNS),
        **asdict(name),
        **asdict(dates),
        is_published=False,
        categories=[_copy_category(c, years) for c in source.categories],
        places=[Place(**_columns(p, {"id", "contest_id"})) for p in source.places if not p.retired],
    )
    session.add(contest)
    session.flush()
    _copy_prize_slots(session, source, contest)
    _copy_results_settings(session, source, contest)
    return contest


def _columns(obj, skip: set[str]) -> dict:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in skip}


def _copy_category(category: Category, years: int) -> Category:
    """The category's rules; the window of when works were made moves on by the years between editions."""
    values = _columns(category, {"id", "contest_id"})
    values["allowed_formats"] = list(category.allowed_formats)
    values["works_from"] = _years_later(category.works_from, years)
    values["works_until"] = _years_later(category.works_until, years)
    return Category(**values)


def _years_later(day: date | None, years: int) -> date | None:
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _copy_prize_slots(session: Session, source: Contest, contest: Contest) -> None:
    by_slug = {c.slug: c.id for c in contest.categories}
    old_slug = {c.id: c.slug for c in source.categories}
    slots = session.scalars(select(PrizeSlot).where(PrizeSlot.contest_id == source.id))
    for slot in slots:
        values = _columns(slot, {"id", "contest_id", "category_id", "created_at"})
        category_id = by_slug[old_slug[slot.category_id]] if slot.category_id is not None else None
        session.add(PrizeSlot(**values, contest_id=contest.id, category_id=category_id))


def _copy_results_settings(session: Session, source: Contest, contest: Contest) -> None:
    settings = session.get(ResultsSettings, source.id)
    if settings is not None:
        values = _columns(settings, {"contest_id", "updated_at"})
        session.add(ResultsSettings(**values, contest_id=contest.id))
