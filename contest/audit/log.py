"""The audit log as the organizers read it: events filtered and paged, with readable labels."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from contest.audit.models import AuditEvent
from contest.entries.models import Entry

EVENTS_PER_PAGE = 50

ACTION_LABELS = {
    "entry.approved": _l("Entry approved"),
    "entry.rejected": _l("Entry rejected"),
    "entry.edited": _l("Entry edited by its author"),
    "entry.featured": _l("Entry featured on the home page"),
    "entry.unfeatured": _l("Entry no longer featured on the home page"),
    "vote.voided": _l("Vote voided"),
    "vote.restored": _l("Vote restored"),
}


# --- audit log --------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    page: int
    has_next: bool


def audit_page(
    session: Session,
    *,
    contest_id: int | None = None,
    action: str = "",
    page: int = 1,
    per_page: int = EVENTS_PER_PAGE,
) -> AuditPage:
    """Audit events, newest first."""
    query = select(AuditEvent).options(selectinload(AuditEvent.actor))
    if contest_id:
        query = query.where(AuditEvent.contest_id == contest_id)
    if action:
        query = query.where(AuditEvent.action == action)
    events = list(
        session.scalars(
            query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return AuditPage(events[:per_page], page, len(events) > per_page)


def audit_actions(session: Session) -> list[tuple[str, str]]:
    """Every action in the log (the known ones first), with its label."""
    seen = set(session.scalars(select(AuditEvent.action).distinct()))
    known = [(action, str(label)) for action, label in ACTION_LABELS.items()]
    return known + [(action, action) for action in sorted(seen - ACTION_LABELS.keys())]


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
