"""Accounts and roles."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, validates
from werkzeug.security import check_password_hash, generate_password_hash

from contest.auth.emails import canonical_email
from contest.db import Base, now_utc, str_enum


class Role(enum.StrEnum):
    entrant = "entrant"
    judge = "judge"
    organizer = "organizer"


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100", name="birth_year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalised (trimmed, lower case): one mailbox is one account.
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    # The mailbox behind the address (Gmail ignores dots, many providers ignore +tags):
    # unique, so that one mailbox is one account. See contest.auth.emails.canonical_email.
    email_canonical: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    full_name: Mapped[str] = mapped_column(String(120), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False, default="VN")
    birth_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    role: Mapped[Role] = mapped_column(
        str_enum(Role, "role"),
        nullable=False,
        default=Role.entrant,
    )
    locale: Mapped[str] = mapped_column(String(5), nullable=False, default="vi")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
    last_login_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # When the address last changed: an e-mail change link names it, so the link works once.
    email_changed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Deleted by its owner: a tombstone without name, address or usable password
    # (contest.auth.account_services.delete_account); its votes still count.
    deleted_at: Mapped[datetime | None] = mapped_column(nullable=True)

    # The login this object was loaded for (contest.auth.sessions): set at log-in and by the
    # loader; not a column (no annotation, so the mapping leaves it alone).
    login_session_id = None
    login_seen_at = None  # when that login was last seen (contest.auth.account_sessions)

    @validates("email")
    def _set_canonical_email(self, _key: str, email: str) -> str:
        self.email_canonical = canonical_email(email)
        return email

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive accounts cannot log in
        return self.active

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_organizer(self) -> bool:
        return self.role is Role.organizer

    def get_id(self) -> str:
        """Flask-Login's id in the session and the remember cookie: the account and its login,
        so that ending the login (a row of login_sessions) ends both."""
        if self.login_session_id is None:
            raise RuntimeError("log in through contest.auth.sessions.begin(), which names the login")
        return f"{self.id}:{self.login_session_id}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class LoginSession(Base):
    """One log-in of an account on one device: its session cookie and its remember cookie name
    this row, and stop working when it is revoked or expires (contest.auth.sessions)."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    remember: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    user_agent: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    # Moved forward at most every few minutes (contest.auth.account_sessions); None: not since log-in.
    last_seen_at: Mapped[datetime | None] = mapped_column(nullable=True)

    def __repr__(self) -> str:
        return f"<LoginSession of user {self.user_id}>"
