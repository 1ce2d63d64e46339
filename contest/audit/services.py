"""Writing to the audit log, in the transaction of the action it records."""

from __future__ import annotations

from sqlalchemy.orm import Session

from contest.audit.models import AuditEvent


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: int | None,
    contest_id: int | None = None,
    reason: str = "",
    details: dict | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        contest_id=contest_id,
        reason=reason,
        details=details,
    )
    session.add(event)
    return event
