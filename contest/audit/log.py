"""The audit log as the organizers read it: events filtered (who, what, when, which object) and paged."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session, selectinload

from contest.audit.models import AuditEvent
from contest.auth.models import User
from contest.entries.models import Entry
from contest.timeutil import vn_day_start
from contest.voting.models import Vote

EVENTS_PER_PAGE = 50
SYSTEM = "system"  # the "who" of events recorded by a command, with no account behind them

ACTION_LABELS = {
    "entry.approved": _l("Entry approved"),
    "entry.rejected": _l("Entry rejected"),
    "entry.edited": _l("Entry edited by its author"),
    "entry.featured": _l("Entry featured on the home page"),
    "entry.unfeatured": _l("Entry no longer featured on the home page"),
    "vote.voided": _l("Vote voided"),
    "vote.restored": _l("Vote restored"),
    "entry.reopened": _l("Entry reopened for review"),
    "entry.file_replaced": _l("New file sent for a rejected entry"),
    "contest.created": _l("Edition created"),
    "contest.place_added": _l("Place added"),
    "contest.place_changed": _l("Place changed"),
    "reason.added": _l("Rejection reason template added"),
    "reason.changed": _l("Rejection reason template changed"),
    "reason.deleted": _l("Rejection reason template deleted"),
    "account.invited": _l("Account invited"),
    "account.role_changed": _l("Role changed"),
    "account.disabled": _l("Account disabled"),
    "account.enabled": _l("Account enabled again"),
    "account.deleted": _l("Account deleted"),
    "account.email_changed": _l("E-mail address changed"),
    "jury.judge_invited": _l("Judge invited"),
    "jury.judge_added": _l("Judge added to a round"),
    "jury.judge_removed": _l("Judge removed from a round"),
    "jury.conflict_declared": _l("Conflict of interest declared"),
    "jury.conflict_withdrawn": _l("Conflict of interest withdrawn"),
    "round.created": _l("Jury round created"),
    "round.edited": _l("Jury round changed"),
    "round.opened": _l("Jury round opened"),
    "round.closed": _l("Jury round closed"),
    "round.reopened": _l("Jury round reopened"),
    "round.dealt": _l("Entries dealt to the judges"),
    "score.changed": _l("Score changed"),
    "results.published": _l("Results published"),
    "results.scheduled": _l("Results publication scheduled"),
    "results.frozen": _l("Results frozen"),
    "results.unfrozen": _l("Results unfrozen"),
    "award.assigned": _l("Award assigned"),
}


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show; every field left empty lets every event through."""

    contest_id: int | None = None
    actor: str = ""  # an account id, or SYSTEM
    action: str = ""
    since: date | None = None  # Vietnam dates, both days included
    until: date | None = None
    subject_type: str = ""
    subject_id: int | None = None
    entry_code: str = ""


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    page: int
    has_next: bool


def filtered(session: Session, chosen: AuditFilter) -> Select:
    """The events the filter lets through, newest first."""
    query = select(AuditEvent)
    if chosen.contest_id:
        query = query.where(AuditEvent.contest_id == chosen.contest_id)
    if chosen.actor == SYSTEM:
        query = query.where(AuditEvent.actor_id.is_(None))
    elif chosen.actor:
        query = query.where(AuditEvent.actor_id == int(chosen.actor))
    if chosen.action:
        query = query.where(AuditEvent.action == chosen.action)
    if chosen.since:
        query = query.where(AuditEvent.created_at >= vn_day_start(chosen.since))
    if chosen.until:
        query = query.where(AuditEvent.created_at < vn_day_start(chosen.until + timedelta(days=1)))
    if chosen.subject_type:
        query = query.where(AuditEvent.subject_type == chosen.subject_type)
    if chosen.subject_id is not None:
        query = query.where(AuditEvent.subject_id == chosen.subject_id)
    if chosen.entry_code:
        query = query.where(_about_entry(session, chosen))
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


def _about_entry(session: Session, chosen: AuditFilter):
    """Events on the entry with this code, or on a vote for it."""
    entries = select(Entry.id).where(Entry.code == chosen.entry_code)
    if chosen.contest_id:
        entries = entries.where(Entry.contest_id == chosen.contest_id)
    entry_ids = list(session.scalars(entries))
    if not entry_ids:
        return false()
    votes = select(Vote.id).where(Vote.entry_id.in_(entry_ids))
    return or_(
        (AuditEvent.subject_type == "entry") & AuditEvent.subject_id.in_(entry_ids),
        (AuditEvent.subject_type == "vote") & AuditEvent.subject_id.in_(votes),
    )


def audit_page(
    session: Session, chosen: AuditFilter, *, page: int = 1, per_page: int = EVENTS_PER_PAGE
) -> AuditPage:
    query = filtered(session, chosen).options(selectinload(AuditEvent.actor))
    events = list(session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)))
    return AuditPage(events[:per_page], page, len(events) > per_page)


def every_event(session: Session, chosen: AuditFilter, batch: int = 500) -> Iterator[list[AuditEvent]]:
    """All the events the filter lets through, a batch at a time (for the CSV file)."""
    query = filtered(session, chosen).options(selectinload(AuditEvent.actor))
    offset = 0
    while events := list(session.scalars(query.offset(offset).limit(batch))):
        yield events
        offset += batch


def audit_actions(session: Session) -> list[tuple[str, str]]:
    """Every action in the log (the known ones first), with its label."""
    seen = set(session.scalars(select(AuditEvent.action).distinct()))
    known = [(action, str(label)) for action, label in ACTION_LABELS.items()]
    return known + [(action, action) for action in sorted(seen - ACTION_LABELS.keys())]


def subject_types(session: Session) -> list[str]:
    return sorted(session.scalars(select(AuditEvent.subject_type).distinct()))


def actors(session: Session) -> list[User]:
    """The accounts that appear in the log, by name."""
    ids = select(AuditEvent.actor_id).where(AuditEvent.actor_id.is_not(None)).distinct()
    return list(session.scalars(select(User).where(User.id.in_(ids)).order_by(User.full_name, User.id)))


def subjects(session: Session, events: list[AuditEvent]) -> dict[tuple[str, int], str]:
    """A readable name for each event's subject: the entry's code, the vote's entry code."""
    entry_ids = {e.subject_id for e in events if e.subject_type == "entry" and e.subject_id}
    entry_ids |= {
        (e.details or {}).get("entry_id") for e in events if e.subject_type == "vote" and e.details
    } - {None}
    codes = (
        dict(session.execute(select(Entry.id, Entry.code).where(Entry.id.in_(entry_ids))).all())
        if entry_ids
        else {}
    )
    names = {}
    for event in events:
        if event.subject_type == "entry":
            names[("entry", event.subject_id)] = codes.get(event.subject_id, "")
        elif event.subject_type == "vote":
            names[("vote", event.subject_id)] = codes.get((event.details or {}).get("entry_id"), "")
    return names
