"""Entries, their status machine, and the media files they own."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.db import Base, now_utc, str_enum
from contest.entries.kinds import AssetKind  # defined there, without SQLAlchemy
from contest.entries.texts import LocalText, in_language
from contest.geo.province import GpsCheck


class EntryStatus(enum.StrEnum):
    draft = "draft"
    submitted = "submitted"
    processing = "processing"
    pending_review = "pending_review"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"
    failed = "failed"
    # Made from a file sent straight to storage: not submitted until the worker checked it.
    checking = "checking"


# The one place where an entry's status may change; anything else is a bug.
TRANSITIONS: dict[EntryStatus, frozenset[EntryStatus]] = {
    EntryStatus.draft: frozenset({EntryStatus.submitted, EntryStatus.checking, EntryStatus.withdrawn}),
    EntryStatus.submitted: frozenset({EntryStatus.processing, EntryStatus.failed, EntryStatus.withdrawn}),
    EntryStatus.processing: frozenset(
        {EntryStatus.pending_review, EntryStatus.failed, EntryStatus.withdrawn}
    ),
    EntryStatus.pending_review: frozenset(
        {EntryStatus.approved, EntryStatus.rejected, EntryStatus.withdrawn}
    ),
    # Back to review: the entrant changed an approved entry (contest.entries.editing).
    EntryStatus.approved: frozenset(
        {EntryStatus.rejected, EntryStatus.withdrawn, EntryStatus.pending_review}
    ),
    # Withdrawn: only when its author deletes the account (contest.entries.services.may_withdraw).
    # Back to review: an organizer reopens it, or its author fixes it (contest.entries.editing).
    # Submitted: its author sends a new file (contest.entries.fixing).
    EntryStatus.rejected: frozenset(
        {EntryStatus.approved, EntryStatus.withdrawn, EntryStatus.pending_review, EntryStatus.submitted}
    ),
    EntryStatus.failed: frozenset({EntryStatus.withdrawn}),
    # The worker's check of a stored upload passed (submitted) or refused the file (failed).
    EntryStatus.checking: frozenset({EntryStatus.submitted, EntryStatus.failed, EntryStatus.withdrawn}),
    EntryStatus.withdrawn: frozenset(),
}

# Statuses in which the entrant may still edit the text (a rejected entry: to fix it) or withdraw.
EDITABLE = frozenset(
    {
        EntryStatus.rejected,
        EntryStatus.submitted,
        EntryStatus.processing,
        EntryStatus.pending_review,
        EntryStatus.approved,
        EntryStatus.failed,
    }
)


class InvalidTransition(ValueError):
    pass


class FlagKind(enum.StrEnum):
    """What the worker noticed for the organizers; a flag never rejects an entry."""

    exact_duplicate = "exact_duplicate"
    near_duplicate = "near_duplicate"
    taken_outside_window = "taken_outside_window"
    edited_with_software = "edited_with_software"
    gps_outside_province = "gps_outside_province"  # contest.entries.gps


def new_shuffle_key() -> int:
    return secrets.randbelow(2**31)


class Entry(Base):
    __tablename__ = "entries"
    # The gallery's three orders, per contest and per category (approved entries only).
    # "Most voted" reads rank_votes, not vote_count: no index holds vote_count, so a vote's
    # update of it stays on the row's own page (a HOT update, no index touched).
    __table_args__ = tuple(
        Index(f"ix_entries_{scope}_status_{order}", scope, "status", order)
        for scope in ("contest_id", "category_id")
        for order in ("approved_at", "rank_votes", "shuffle_key")
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(24), unique=True, nullable=False)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id"), index=True, nullable=False)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True, nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The entrant's English title and description, optional ("" when not given): what English
    # visitors see, the Vietnamese otherwise (contest.entries.texts).
    title_en: Mapped[str] = mapped_column(String(200), nullable=False, default="", server_default="")
    description_en: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    taken_on: Mapped[date] = mapped_column(nullable=False)
    status: Mapped[EntryStatus] = mapped_column(
        str_enum(EntryStatus, "entry_status"),
        nullable=False,
        default=EntryStatus.draft,
        index=True,
    )
    # Why media processing failed: a code from contest.entries.failures and its values,
    # so the entrant reads the reason in their own language.
    failure_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    failure_params: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    declarations_accepted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
    submitted_at: Mapped[datetime | None] = mapped_column(nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Valid (not voided) public votes, kept by contest.voting.services in the vote's transaction.
    vote_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # vote_count as the gallery's "most voted" order last saw it (contest.gallery.ranks copies
    # it over every GALLERY_CACHE_S at most): indexed, where vote_count is not.
    rank_votes: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # A fixed random number: the gallery's "random" order starts at a point drawn per visitor.
    shuffle_key: Mapped[int] = mapped_column(Integer, nullable=False, default=new_shuffle_key)
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc, onupdate=now_utc)
    # Whether the renditions' public copies exist: made true by approval and false by any other
    # status, by contest.media.publication, whose sweep repairs a copy a storage fault left behind.
    media_published: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    # Whether the GPS positions in its files lie in Nghệ An, as the worker found them (the
    # positions themselves are never kept): None until its media is processed.
    gps_check: Mapped[GpsCheck | None] = mapped_column(str_enum(GpsCheck, "gps_check"), nullable=True)

    contest = relationship("Contest", foreign_keys=[contest_id])  # not the contest it is featured by
    category = relationship("Category")
    author = relationship("User")
    place = relationship("Place")
    assets: Mapped[list[MediaAsset]] = relationship(
        back_populates="entry",
        order_by="(MediaAsset.position, MediaAsset.kind)",
        cascade="all, delete-orphan",
    )

    @property
    def shown_title(self) -> LocalText:
        """The title in the visitor's language, the Vietnamese one failing an English one."""
        return in_language({"vi": self.title, "en": self.title_en})

    @property
    def shown_description(self) -> LocalText:
        return in_language({"vi": self.description, "en": self.description_en})

    def transition(self, new: EntryStatus) -> None:
        if new not in TRANSITIONS[self.status]:
            raise InvalidTransition(f"{self.code}: {self.status.value} -> {new.value}")
        self.status = new
        if new is EntryStatus.approved and self.approved_at is None:
            self.approved_at = now_utc()
        if new is not EntryStatus.failed:
            self.failure_code = None
            self.failure_params = None

    def fail(self, code: str, **params) -> None:
        self.transition(EntryStatus.failed)
        self.failure_code = code
        self.failure_params = params or None

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def media_is_public(self) -> bool:
        """Whether its renditions are shown at their public keys (approved entries only)."""
        return self.status is EntryStatus.approved

    def asset(self, kind: AssetKind, position: int = 0, label: str = "") -> MediaAsset | None:
        return next(
            (a for a in self.assets if a.kind is kind and a.position == position and a.label == label), None
        )

    def originals(self) -> list[MediaAsset]:
        """The uploaded files in their order (one for a photo or a video, several for a series)."""
        return sorted((a for a in self.assets if a.kind is AssetKind.original), key=lambda a: a.position)

    def __repr__(self) -> str:
        return f"<Entry {self.code} {self.status.value}>"


class MediaAsset(Base):
    """One stored object: an original upload or one of its renditions."""

    __tablename__ = "media_assets"
    __table_args__ = (UniqueConstraint("entry_id", "position", "kind", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), index=True, nullable=False
    )
    # Index of the work inside the entry (photo series); 0 for a single work.
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    kind: Mapped[AssetKind] = mapped_column(str_enum(AssetKind, "asset_kind"), nullable=False)
    # Tells apart several assets of one kind: "1080p", "720p" for video, "1", "2" for frames.
    label: Mapped[str] = mapped_column(String(20), nullable=False, default="", server_default="")
    storage_key: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    mime_type: Mapped[str] = mapped_column(String(100), nullable=False)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # Perceptual hash of an original photo (64-bit, hex) for near-duplicate search.
    phash: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # What probing found: codecs, frame rate, EXIF hints (camera, date taken, software).
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # As the entrant named it; shown to organizers and used for exports only.
    original_filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)

    entry: Mapped[Entry] = relationship(back_populates="assets")

    @property
    def is_public(self) -> bool:
        return self.kind not in (AssetKind.original, AssetKind.jury_original)  # the jury copy: never public

    def __repr__(self) -> str:
        return f"<MediaAsset {self.kind.value} {self.storage_key}>"


class EntryFlag(Base):
    """Something the organizers should look at: a duplicate, an EXIF date outside the window..."""

    __tablename__ = "entry_flags"
    __table_args__ = (UniqueConstraint("entry_id", "position", "kind", "other_entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), index=True, nullable=False
    )
    # The work inside the entry the flag is about (photo series), 0 otherwise.
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    kind: Mapped[FlagKind] = mapped_column(str_enum(FlagKind, "flag_kind"), nullable=False)
    # The entry this one duplicates, for duplicate flags.
    other_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), index=True, nullable=True
    )
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)

    entry: Mapped[Entry] = relationship(foreign_keys=[entry_id])
    other_entry: Mapped[Entry | None] = relationship(foreign_keys=[other_entry_id])
