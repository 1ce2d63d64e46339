"""Organizer set-up of a contest and its categories: conversions and changes.

Organizers read and type phase dates in Vietnam time and file sizes in MB; the database
keeps UTC instants and bytes. The conversions live here so that views and forms stay thin.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from contest.auth.models import User
from contest.contests.models import (
    Category,
    CategoryKind,
    Contest,
    EditsAfterApproval,
    VoteCountDisplay,
    VotePolicy,
)
from contest.entries.models import Entry
from contest.timeutil import from_vn_local, to_vn
from contest.voting.models import Vote

log = logging.getLogger("contest.admin")  # the log of organizer changes, whichever feature

BYTES_PER_MB = 1_000_000

PHOTO_FORMATS = ("jpeg", "png", "heif", "webp")
VIDEO_FORMATS = ("mp4", "mov")
FORMATS_BY_KIND: dict[CategoryKind, tuple[str, ...]] = {
    CategoryKind.photo: PHOTO_FORMATS,
    CategoryKind.photo_series: PHOTO_FORMATS,
    CategoryKind.video: VIDEO_FORMATS,
}

CONTEST_MOMENTS = (
    "submission_opens_at",
    "submission_closes_at",
    "voting_opens_at",
    "voting_closes_at",
    "results_at",
)
CONTEST_FIELDS = (
    "title_vi",
    "title_en",
    "description_vi",
    "description_en",
    "rules_vi",
    "rules_en",
    "home_text_vi",
    "home_text_en",
    "code_prefix",
    *CONTEST_MOMENTS,
    "min_entrant_age",
    "max_entries_per_person",
    "is_published",
    "edits_after_approval",
    "vote_policy",
    "votes_per_day",
    "vote_counts",
    "judges_may_vote",
    "organizers_may_vote",
    "authors_may_vote_for_own",
    "audience_prize_places",
    "monthly_prize_winners",
)
CATEGORY_FIELDS = (
    "name_vi",
    "name_en",
    "description_vi",
    "description_en",
    "allowed_formats",
    "min_long_edge_px",
    "min_bytes",
    "max_bytes",
    "works_from",
    "works_until",
    "max_entries_per_person",
)
KIND_FIELDS: dict[CategoryKind, tuple[str, ...]] = {
    CategoryKind.photo: (),
    CategoryKind.photo_series: ("min_items", "max_items"),
    CategoryKind.video: ("max_duration_s",),
}
# Long texts are logged by name only.
_TEXT_FIELDS = {"description_vi", "description_en", "rules_vi", "rules_en", "home_text_vi", "home_text_en"}


class SettingsRejected(ValueError):
    """A setting that only the database can refuse; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def has_entries(session: Session, contest: Contest) -> bool:
    return bool(session.scalar(select(exists().where(Entry.contest_id == contest.id))))


# --- conversions ------------------------------------------------------------------------
def vn_wall_clock(moment: datetime | None) -> datetime | None:
    """A UTC instant as the naive Vietnam time an organizer reads, to the minute."""
    if moment is None:
        return None
    return to_vn(moment).replace(tzinfo=None, second=0, microsecond=0)


def mb_to_bytes(megabytes: Decimal | None) -> int | None:
    if megabytes is None:
        return None
    return int((megabytes * BYTES_PER_MB).to_integral_value(rounding=ROUND_HALF_UP))


def bytes_to_mb(num_bytes: int | None) -> Decimal | None:
    if num_bytes is None:
        return None
    return Decimal(num_bytes) / BYTES_PER_MB


# --- contest ----------------------------------------------------------------------------
def contest_settings(contest: Contest) -> dict[str, Any]:
    """The contest as the organizer's form shows it (Vietnam time)."""
    values = {name: getattr(contest, name) for name in CONTEST_FIELDS}
    values.update({name: vn_wall_clock(getattr(contest, name)) for name in CONTEST_MOMENTS})
    return values


def update_contest(session: Session, contest: Contest, values: Mapping[str, Any], actor: User) -> dict:
    """Apply the organizer's settings (phase dates as typed in Vietnam time); returns the changes.

    Raises SettingsRejected before changing anything when the code prefix is taken, or when
    it would change although entries already carry it.
    """
    wanted = {name: values[name] for name in CONTEST_FIELDS}
    for name in CONTEST_MOMENTS:
        wanted[name] = _instant(getattr(contest, name), wanted[name])
    _check_code_prefix(session, contest, wanted["code_prefix"])
    wanted["vote_policy"] = VotePolicy(wanted["vote_policy"])
    wanted["vote_counts"] = VoteCountDisplay(wanted["vote_counts"])
    if wanted["vote_policy"] is not VotePolicy.daily_quota:
        wanted["votes_per_day"] = None
    _check_vote_policy(session, contest, wanted["vote_policy"], wanted["votes_per_day"])
    wanted["edits_after_approval"] = EditsAfterApproval(wanted["edits_after_approval"])
    changes = _apply(contest, wanted)
    session.flush()
    _log_changes(actor, f"contest {contest.id} ({contest.slug})", changes)
    return changes


def _instant(current: datetime | None, typed: datetime | None) -> datetime | None:
    """The UTC instant for a typed Vietnam time; the stored one if the organizer left it as shown."""
    if typed is None:
        return None
    if typed == vn_wall_clock(current):
        return current
    return from_vn_local(typed)


def _check_vote_policy(session: Session, contest: Contest, policy: VotePolicy, per_day: int | None) -> None:
    """Votes already cast were counted under the policy: it cannot change under them."""
    if (policy, per_day) == (contest.vote_policy, contest.votes_per_day):
        return
    if session.scalar(select(Vote.id).where(Vote.contest_id == contest.id).limit(1)) is not None:
        raise SettingsRejected("vote_policy", _l("The voting rules cannot change once votes have been cast."))


def _check_code_prefix(session: Session, contest: Contest, prefix: str) -> None:
    if prefix == contest.code_prefix:
        return
    if has_entries(session, contest):
        raise SettingsRejected(
            "code_prefix", _l("The code prefix cannot change once the contest has entries.")
        )
    taken = session.scalar(select(Contest.id).where(Contest.code_prefix == prefix, Contest.id != contest.id))
    if taken is not None:
        raise SettingsRejected("code_prefix", _l("Another contest already uses this code prefix."))


# --- category ---------------------------------------------------------------------------
def category_fields(kind: CategoryKind) -> tuple[str, ...]:
    """The settings an organizer edits for a category of ``kind``."""
    return CATEGORY_FIELDS + KIND_FIELDS[kind]


def category_settings(category: Category) -> dict[str, Any]:
    """The category as the organizer's form shows it (sizes in MB)."""
    values = {name: getattr(category, name) for name in category_fields(category.kind)}
    values["min_mb"] = bytes_to_mb(category.min_bytes)
    values["max_mb"] = bytes_to_mb(category.max_bytes)
    return values


def update_category(session: Session, category: Category, values: Mapping[str, Any], actor: User) -> dict:
    """Apply the organizer's settings (sizes typed in MB); returns the changes."""
    wanted = {
        name: values[name]
        for name in category_fields(category.kind)
        if name not in ("min_bytes", "max_bytes")
    }
    wanted["min_bytes"] = mb_to_bytes(values["min_mb"])
    wanted["max_bytes"] = mb_to_bytes(values["max_mb"])
    wanted["allowed_formats"] = [f for f in FORMATS_BY_KIND[category.kind] if f in values["allowed_formats"]]
    changes = _apply(category, wanted)
    session.flush()
    _log_changes(actor, f"category {category.id} ({category.slug}) of contest {category.contest_id}", changes)
    return changes


# --- shared -----------------------------------------------------------------------------
def _apply(obj: Contest | Category, wanted: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    changes = {}
    for name, new in wanted.items():
        old = getattr(obj, name)
        if old != new:
            changes[name] = (old, new)
            setattr(obj, name, new)
    return changes


def _log_changes(actor: User, target: str, changes: Mapping[str, tuple[Any, Any]]) -> None:
    if not changes:
        log.info("%s <%s> saved %s without changes", actor.id, actor.email, target)
        return
    described = ", ".join(
        name if name in _TEXT_FIELDS else f"{name}: {old!r} -> {new!r}"
        for name, (old, new) in changes.items()
    )
    log.info("%s <%s> changed %s: %s", actor.id, actor.email, target, described)
