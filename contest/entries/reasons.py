"""Reasons for rejecting an entry: bilingual templates the organizers keep, and their changes.

An organizer rejects with a template's text (the entrant reads it in their language) or
with words of their own. The templates are a small list the organizers edit themselves.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from contest.audit.services import record
from contest.auth.models import User
from contest.db import Base, now_utc
from contest.entries.texts import LocalText, in_language

MAX_REASON = 1000


class RejectionReason(Base):
    """A reason an organizer can pick when rejecting an entry, in Vietnamese and English."""

    __tablename__ = "rejection_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    text_vi: Mapped[str] = mapped_column(String(MAX_REASON), nullable=False)
    text_en: Mapped[str] = mapped_column(String(MAX_REASON), nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)

    @property
    def shown_text(self) -> LocalText:
        return in_language({"vi": self.text_vi, "en": self.text_en})

    def __repr__(self) -> str:
        return f"<RejectionReason {self.id}>"


def all_reasons(session: Session) -> list[RejectionReason]:
    return list(session.scalars(select(RejectionReason).order_by(RejectionReason.id)))


def save_reason(
    session: Session, reason: RejectionReason | None, actor: User, *, text_vi: str, text_en: str
) -> RejectionReason:
    """Add a template (``reason`` None) or change one; audited either way."""
    action = "reason.changed" if reason is not None else "reason.added"
    if reason is None:
        reason = RejectionReason(text_vi=text_vi, text_en=text_en)
        session.add(reason)
    else:
        reason.text_vi, reason.text_en = text_vi, text_en
    session.flush()
    _audit(session, reason, actor, action)
    return reason


def delete_reason(session: Session, reason: RejectionReason, actor: User) -> None:
    _audit(session, reason, actor, "reason.deleted")
    session.delete(reason)
    session.flush()


def _audit(session: Session, reason: RejectionReason, actor: User, action: str) -> None:
    record(
        session,
        actor_id=actor.id,
        action=action,
        subject_type="reason",
        subject_id=reason.id,
        details={"text_vi": reason.text_vi, "text_en": reason.text_en},
    )
