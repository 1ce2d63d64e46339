"""A contest edition, its categories with their rules, and the places entries may come from."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import get_locale
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    false,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from contest.db import Base, now_utc, str_enum


class VotePolicy(enum.StrEnum):
    """How often one account may vote (contest configuration; days are Vietnam days)."""

    once_per_entry = "once_per_entry"
    once_per_entry_per_day = "once_per_entry_per_day"
    daily_quota = "daily_quota"  # votes_per_day votes a day in all, one per entry and day


class VoteCountDisplay(enum.StrEnum):
    live = "live"
    after_close = "after_close"


class EditsAfterApproval(enum.StrEnum):
    """What an entrant's change to an approved entry does (contest configuration)."""

    review = "review"  # saved, and the entry leaves the gallery until it is approved again
    refused = "refused"  # approved entries can no longer be changed


class CategoryKind(enum.StrEnum):
    photo = "photo"
    photo_series = "photo_series"
    video = "video"


def _localized(obj, field: str) -> str:
    """The Vietnamese or English text of ``field`` for the current language."""
    lang = str(get_locale() or "vi")
    value = getattr(obj, f"{field}_{lang}", None) or getattr(obj, f"{field}_vi")
    return value or ""


def counts_visible(display: VoteCountDisplay, closes_at: datetime, at: datetime | None = None) -> bool:
    """Whether the public sees vote counts at ``at`` (organizers always do)."""
    return display is VoteCountDisplay.live or (at or now_utc()) >= closes_at


class VotingRules:
    """The voting window and count display rules, for a Contest or a row read for one vote."""

    voting_opens_at: datetime
    voting_closes_at: datetime
    vote_counts: VoteCountDisplay

    def voting_open(self, at: datetime | None = None) -> bool:
        at = at or now_utc()
        return self.voting_opens_at <= at < self.voting_closes_at

    def vote_counts_visible(self, at: datetime | None = None) -> bool:
        """Whether the public sees vote counts now (organizers always do)."""
        return counts_visible(self.vote_counts, self.voting_closes_at, at)


class Contest(VotingRules, Base):
    __tablename__ = "contests"
    __table_args__ = (
        CheckConstraint("submission_opens_at < submission_closes_at", name="submission_window"),
        CheckConstraint("voting_opens_at < voting_closes_at", name="voting_window"),
        CheckConstraint("min_entrant_age BETWEEN 0 AND 120", name="min_entrant_age_range"),
        CheckConstraint("votes_per_day IS NULL OR votes_per_day >= 1", name="votes_per_day_positive"),
        CheckConstraint(
            "vote_policy != 'daily_quota' OR votes_per_day IS NOT NULL",
            name="daily_quota_needs_votes_per_day",
        ),
        CheckConstraint("audience_prize_places >= 0", name="audience_prize_places_range"),
        CheckConstraint("monthly_prize_winners >= 0", name="monthly_prize_winners_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    # Prefix of the public entry codes, e.g. HNA25 -> HNA25-0001.
    code_prefix: Mapped[str] = mapped_column(String(12), unique=True, nullable=False)
    title_vi: Mapped[str] = mapped_column(String(200), nullable=False)
    title_en: Mapped[str] = mapped_column(String(200), nullable=False)
    description_vi: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    rules_vi: Mapped[str] = mapped_column(Text, nullable=False, default="")
    rules_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The home page's text; rules_* and home_text_* are Markdown (contest.contests.markdown).
    home_text_vi: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    home_text_en: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    # Storage keys of the public logo and banner renditions (contest.contests.images).
    logo_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    banner_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # Instants in UTC; organizers enter and read them in Vietnam time.
    submission_opens_at: Mapped[datetime] = mapped_column(nullable=False)
    submission_closes_at: Mapped[datetime] = mapped_column(nullable=False)
    voting_opens_at: Mapped[datetime] = mapped_column(nullable=False)
    voting_closes_at: Mapped[datetime] = mapped_column(nullable=False)
    results_at: Mapped[datetime | None] = mapped_column(nullable=True)
    min_entrant_age: Mapped[int] = mapped_column(Integer, nullable=False, default=15)
    max_entries_per_person: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_published: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Public vote: policy, how counts are shown, audience prizes (0 = no such prize).
    vote_policy: Mapped[VotePolicy] = mapped_column(
        str_enum(VotePolicy, "vote_policy", length=30),
        nullable=False,
        default=VotePolicy.once_per_entry_per_day,
    )
    votes_per_day: Mapped[int | None] = mapped_column(Integer, nullable=True)
    vote_counts: Mapped[VoteCountDisplay] = mapped_column(
        str_enum(VoteCountDisplay, "vote_count_display"), nullable=False, default=VoteCountDisplay.live
    )
    # Who may vote besides the public: the rule is contest.voting.eligibility's; all off by default.
    judges_may_vote: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    organizers_may_vote: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    authors_may_vote_for_own: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    # Audience prize per category at the close: how many places (1 = the most voted entry).
    audience_prize_places: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # Monthly vote prize over the whole contest: winners per month (a past winner cannot win again).
    monthly_prize_winners: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    edits_after_approval: Mapped[EditsAfterApproval] = mapped_column(
        str_enum(EditsAfterApproval, "edits_after_approval"),
        nullable=False,
        default=EditsAfterApproval.review,
        server_default=EditsAfterApproval.review.value,
    )
    # The photograph the home page shows large, chosen by an organizer (contest.main.home);
    # None: the home page picks one. use_alter: entries point at contests too.
    featured_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("entries.id", ondelete="SET NULL", use_alter=True), index=True, nullable=True
    )
    # Last number handed out for entry codes; see next_entry_number().
    entry_counter: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Moves on with every write of what the public pages show (contest.gallery.versions).
    public_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)

    categories: Mapped[list[Category]] = relationship(
        back_populates="contest", order_by="Category.position", cascade="all, delete-orphan"
    )
    places: Mapped[list[Place]] = relationship(
        back_populates="contest", order_by="Place.position", cascade="all, delete-orphan"
    )

    @property
    def title(self) -> str:
        return _localized(self, "title")

    @property
    def description(self) -> str:
        return _localized(self, "description")

    @property
    def rules(self) -> str:
        return _localized(self, "rules")

    @property
    def home_text(self) -> str:
        return _localized(self, "home_text")

    def submission_open(self, at: datetime | None = None) -> bool:
        at = at or now_utc()
        return self.submission_opens_at <= at < self.submission_closes_at

    def next_entry_code(self, session: Session) -> str:
        """Hand out the next public entry code; concurrent callers get distinct numbers."""
        number = session.execute(
            update(Contest)
            .where(Contest.id == self.id)
            .values(entry_counter=Contest.entry_counter + 1)
            .returning(Contest.entry_counter)
        ).scalar_one()
        self.entry_counter = number
        session.expire(self, ["entry_counter"])
        return f"{self.code_prefix}-{number:04d}"

    def __repr__(self) -> str:
        return f"<Contest {self.slug}>"


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (
        UniqueConstraint("contest_id", "slug"),
        CheckConstraint(
            "min_bytes IS NULL OR max_bytes IS NULL OR min_bytes <= max_bytes", name="bytes_range"
        ),
        CheckConstraint(
            "works_from IS NULL OR works_until IS NULL OR works_from <= works_until", name="works_window"
        ),
        CheckConstraint(
            "min_items IS NULL OR max_items IS NULL OR min_items <= max_items", name="items_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(
        ForeignKey("contests.id", ondelete="CASCADE"), index=True, nullable=False
    )
    slug: Mapped[str] = mapped_column(String(40), nullable=False)
    kind: Mapped[CategoryKind] = mapped_column(
        str_enum(CategoryKind, "category_kind"),
        nullable=False,
    )
    name_vi: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    description_vi: Mapped[str] = mapped_column(Text, nullable=False, default="")
    description_en: Mapped[str] = mapped_column(Text, nullable=False, default="")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Formats detected from content, lower case: "jpeg", "png", "heif", "mp4", "mov".
    allowed_formats: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    min_long_edge_px: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Largest accepted long edge (video resolution cap, e.g. 3840 for 4K); None: no cap.
    max_long_edge_px: Mapped[int | None] = mapped_column(Integer, nullable=True)
    min_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_duration_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    works_from: Mapped[date | None] = mapped_column(nullable=True)
    works_until: Mapped[date | None] = mapped_column(nullable=True)
    max_entries_per_person: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Photo series: how many photos one entry holds.
    min_items: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_items: Mapped[int | None] = mapped_column(Integer, nullable=True)

    contest: Mapped[Contest] = relationship(back_populates="categories")

    @property
    def name(self) -> str:
        return _localized(self, "name")

    @property
    def description(self) -> str:
        return _localized(self, "description")

    def __repr__(self) -> str:
        return f"<Category {self.slug} {self.kind.value}>"


class Place(Base):
    """Where in the contest's territory a work may be shot (Nghe An: districts, towns, city)."""

    __tablename__ = "places"
    __table_args__ = (UniqueConstraint("contest_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(
        ForeignKey("contests.id", ondelete="CASCADE"), index=True, nullable=False
    )
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    name_vi: Mapped[str] = mapped_column(String(120), nullable=False)
    name_en: Mapped[str] = mapped_column(String(120), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # No longer offered to new entries; entries that name it keep it.
    retired: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())

    contest: Mapped[Contest] = relationship(back_populates="places")

    @property
    def name(self) -> str:
        return _localized(self, "name")


def _current(stmt: Select) -> Select:
    return stmt.where(Contest.is_published.is_(True)).order_by(Contest.submission_opens_at.desc()).limit(1)


def current_contest(session: Session) -> Contest | None:
    """The published contest whose submission or voting is nearest in time (newest first)."""
    return session.scalars(_current(select(Contest))).first()


def current_public_version(session: Session) -> tuple[int, int] | None:
    """(id, public_version) of the current contest: what the public pages' copies are keyed by."""
    row = session.execute(_current(select(Contest.id, Contest.public_version))).first()
    return (row.id, row.public_version) if row is not None else None
