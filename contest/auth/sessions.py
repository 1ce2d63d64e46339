"""Logins: one row per log-in on a device, named by its session and remember cookies.

Both cookies carry "<account id>:<login id>" (User.get_id), and the account is loaded only
while that login exists, is the account's, is not revoked and has not expired. Revoking the
row ends both cookies for good, even if someone kept a copy: logging out ends that login, a
password change ends the account's other logins, a reset or "log out everywhere" ends all.
Functions flush; the caller commits.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from contest.auth.models import LoginSession, User
from contest.db import now_utc

USER_AGENT_LENGTH = 200


def lifetime() -> timedelta:
    """How long a login lasts: the remember cookie's lifetime (REMEMBER_COOKIE_DAYS)."""
    return current_app.config["REMEMBER_COOKIE_DURATION"]


def still_open(at: datetime) -> ColumnElement[bool]:
    """The condition a login must meet at ``at`` to log anyone in."""
    return and_(LoginSession.revoked_at.is_(None), LoginSession.expires_at > at)


def begin(session: Session, user: User, *, remember: bool, user_agent: str) -> str:
    """Open a login for ``user`` (set on it for Flask-Login's get_id) and return its id.

    The account's ended logins are forgotten here, so the table keeps what is still open.
    """
    now = now_utc()
    session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id,
            or_(LoginSession.revoked_at.is_not(None), LoginSession.expires_at <= now),
        )
    )
    login = LoginSession(
        id=secrets.token_urlsafe(24),
        user_id=user.id,
        created_at=now,
        expires_at=now + lifetime(),
        remember=remember,
        user_agent=user_agent[:USER_AGENT_LENGTH],
    )
    session.add(login)
    session.flush()
    user.login_session_id = login.id
    return login.id


def parse(login_id: str | None) -> tuple[int, str] | None:
    """(account id, login id) from a cookie's "<account id>:<login id>"; None if malformed."""
    if not isinstance(login_id, str):
        return None
    user_id, colon, login_session_id = login_id.partition(":")
    if not colon or not login_session_id or not user_id.isdigit():
        return None
    return int(user_id), login_session_id


def load_user(session: Session, login_id: str) -> User | None:
    """The active account of an open login (one query), or None: the cookie logs nobody in."""
    parsed = parse(login_id)
    if parsed is None:
        return None
    user_id, login_session_id = parsed
    row = session.execute(
        select(User, func.coalesce(LoginSession.last_seen_at, LoginSession.created_at))
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(User.id == user_id, LoginSession.id == login_session_id, still_open(now_utc()))
    ).first()
    if row is None or not row[0].is_active:
        return None
    user = row[0]
    user.login_session_id, user.login_seen_at = login_session_id, row[1]
    return user


def end(session: Session, login_session_id: str) -> None:
    """End one login (logging out on one device)."""
    _revoke(session, LoginSession.id == login_session_id)


def end_all(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every open login of the account except ``keep``; returns how many were ended."""
    condition = LoginSession.user_id == user_id
    if keep is not None:
        condition = and_(condition, LoginSession.id != keep)
    return _revoke(session, condition)


def open_count(session: Session, user_id: int) -> int:
    """How many logins of the account are open now (on how many devices it is logged in)."""
    return session.scalar(
        select(func.count())
        .select_from(LoginSession)
        .where(LoginSession.user_id == user_id, still_open(now_utc()))
    )


def _revoke(session: Session, condition: ColumnElement[bool]) -> int:
    now = now_utc()
    result = session.execute(
        update(LoginSession).where(condition, still_open(now)).values(revoked_at=now),
        execution_options={"synchronize_session": False},
    )
    session.flush()
    return result.rowcount
