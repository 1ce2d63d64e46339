"""Outgoing e-mail, written in the same transaction as the change that causes it.

Each row is also the record of the message: what it was about (``kind``), for which user and
in which language, when it was sent, how many attempts it took and the last error.
``event_key`` names the event that caused it (``entry.ready:job:42``): one message per event,
however many times the code that noticed the event runs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from contest.db import Base, now_utc


class OutboundEmail(Base):
    __tablename__ = "outbound_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    kind: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    event_key: Mapped[str | None] = mapped_column(String(160), nullable=True, unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True, nullable=True
    )
    locale: Mapped[str | None] = mapped_column(String(5), nullable=True)
