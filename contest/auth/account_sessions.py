"""The account page's list of devices: which logins are open, on what, last seen when.

A login is shown by a handle (a hash of its id), never by its id: the id is what its cookies
carry. "Last seen" is moved forward at most every SEEN_EVERY, after the request's own
transaction has ended (``touch``), so a page view writes nothing most of the time.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contest.auth import sessions
from contest.auth.models import LoginSession
from contest.db import now_utc

SEEN_EVERY = timedelta(minutes=5)

# (pattern, name): the first that matches the user agent names the browser. Order matters:
# Edge, Opera, Samsung Internet and Cốc Cốc also say "Chrome", Chrome also says "Safari".
BROWSERS = (
    (r"Edg(e|A|iOS)?/", "Edge"),
    (r"OPR/|Opera", "Opera"),
    (r"SamsungBrowser/", "Samsung Internet"),
    (r"coc_coc_browser/", "Cốc Cốc"),
    (r"Zalo", "Zalo"),
    (r"FBAN|FBAV", "Facebook"),
    (r"Firefox/|FxiOS/", "Firefox"),
    (r"Chrome/|CriOS/|Chromium/", "Chrome"),
    (r"Safari/", "Safari"),
)
SYSTEMS = (
    (r"iPhone", "iPhone"),
    (r"iPad", "iPad"),
    (r"Android", "Android"),
    (r"CrOS", "ChromeOS"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"Linux", "Linux"),
)


def _first_match(table: tuple[tuple[str, str], ...], user_agent: str) -> str | None:
    return next((name for pattern, name in table if re.search(pattern, user_agent)), None)


def describe_device(user_agent: str) -> tuple[str | None, str | None]:
    """(browser, system) read from a user agent, each None when not recognised."""
    return _first_match(BROWSERS, user_agent), _first_match(SYSTEMS, user_agent)


def handle(login_id: str) -> str:
    """The name of a login in pages and forms (its id stays in the cookies only)."""
    return hashlib.sha256(login_id.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Device:
    handle: str
    browser: str | None
    system: str | None
    logged_in_at: datetime
    last_seen_at: datetime
    remember: bool
    current: bool


def devices(session: Session, user_id: int, current_login: str | None) -> list[Device]:
    """The account's open logins, this device first, then the most recently seen."""
    logins = session.scalars(
        select(LoginSession).where(LoginSession.user_id == user_id, sessions.still_open(now_utc()))
    )
    listed = [_device(login, current_login) for login in logins]
    return sorted(listed, key=lambda d: (not d.current, -d.last_seen_at.timestamp()))


def _device(login: LoginSession, current_login: str | None) -> Device:
    browser, system = describe_device(login.user_agent)
    return Device(
        handle=handle(login.id),
        browser=browser,
        system=system,
        logged_in_at=login.created_at,
        last_seen_at=login.last_seen_at or login.created_at,
        remember=login.remember,
        current=login.id == current_login,
    )


def end_device(session: Session, user_id: int, device_handle: str) -> str | None:
    """End the account's open login named ``device_handle``: its id, or None if there is none."""
    login_ids = session.scalars(
        select(LoginSession.id).where(LoginSession.user_id == user_id, sessions.still_open(now_utc()))
    )
    login_id = next((i for i in login_ids if handle(i) == device_handle), None)
    if login_id is not None:
        sessions.end(session, login_id)
    return login_id


# --- last seen ----------------------------------------------------------------------------
def login_to_touch() -> str | None:
    """The request's login if its "last seen" is older than SEEN_EVERY, else None. Requests
    that loaded no account (most of the gallery's) have none."""
    user = g.get("_login_user")
    seen_at = getattr(user, "login_seen_at", None)
    if seen_at is None or now_utc() - seen_at < SEEN_EVERY:
        return None
    return user.login_session_id


def touch(session: Session, login_id: str) -> None:
    """Move the login's "last seen" to now, as the request ends.

    The request's own transaction is ended first (a rollback: what the view meant to keep, it
    has committed), so the write is alone in its short transaction.
    """
    session.rollback()
    session.execute(
        update(LoginSession).where(LoginSession.id == login_id).values(last_seen_at=now_utc()),
        execution_options={"synchronize_session": False},
    )
    session.commit()
