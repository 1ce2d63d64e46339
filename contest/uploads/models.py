"""An upload sent straight to storage in parts, and its states."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from contest.db import Base, now_utc, str_enum


class UploadState(enum.StrEnum):
    started = "started"  # parts may be sent
    stored = "stored"  # the object is whole in storage, no entry holds it yet
    attached = "attached"  # an entry took the object (entry_id)
    aborted = "aborted"  # given up: the parts and any object are deleted


# The one place where an upload's state may change.
TRANSITIONS: dict[UploadState, frozenset[UploadState]] = {
    UploadState.started: frozenset({UploadState.stored, UploadState.aborted}),
    UploadState.stored: frozenset({UploadState.attached, UploadState.aborted}),
    UploadState.attached: frozenset(),
    UploadState.aborted: frozenset(),
}

# The entry form's file fields an upload may be meant for (contest.entries.forms.NewEntryForm).
UPLOAD_FIELDS = ("photo", "photos", "video")


class InvalidUploadTransition(ValueError):
    pass


def new_upload_id() -> str:
    return uuid.uuid4().hex


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (
        Index("ix_uploads_state_created_at", "state", "created_at"),
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("part_count BETWEEN 1 AND 10000", name="part_count_range"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_upload_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True, nullable=False)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True, nullable=False)
    field: Mapped[str] = mapped_column(String(10), nullable=False)  # one of UPLOAD_FIELDS
    filename: Mapped[str] = mapped_column(String(255), nullable=False)  # shown to the entrant only
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)  # declared, checked at completion
    part_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    part_count: Mapped[int] = mapped_column(Integer, nullable=False)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    # S3's UploadId; the local backend keeps its parts under the upload's id and leaves it empty.
    multipart_id: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    state: Mapped[UploadState] = mapped_column(
        str_enum(UploadState, "upload_state"), nullable=False, default=UploadState.started
    )
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("entries.id", ondelete="SET NULL"), index=True, nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
    completed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def move_to(self, state: UploadState) -> None:
        """Change the state, refusing any move TRANSITIONS does not list."""
        if state not in TRANSITIONS[self.state]:
            raise InvalidUploadTransition(f"upload {self.id}: {self.state} -> {state}")
        self.state = state
        if state is UploadState.stored:
            self.completed_at = now_utc()

    def __repr__(self) -> str:
        return f"<Upload {self.id} {self.state.value}>"
