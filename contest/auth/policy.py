"""Who may do what: the one place for access rules."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from contest.auth import sessions
from contest.auth.models import Role
from contest.extensions import db, login_manager
from contest.jury.models import Assignment, JuryMember, RoundStatus


def role_required(*roles: Role) -> Callable:
    """Logged-in users with one of ``roles``; others get 403 (anonymous: the login page)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


organizer_required = role_required(Role.organizer)


def verified_entrant_required(view: Callable) -> Callable:
    """Entrants whose e-mail is verified; an unverified one is sent to confirm it first."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role is not Role.entrant:
            abort(403)
        if not current_user.is_verified:
            # That page is the one reminder (templates/auth/unverified.html), with nothing else.
            return redirect(url_for("auth.unverified"))
        return view(*args, **kwargs)

    return wrapped


def session_login() -> tuple[int, str] | None:
    """(account id, login id) as the signed session cookie names them, without loading the account.

    For a hot path that reads the account's columns in its own query (the vote button), and
    checks there that the login is still open (contest.auth.sessions.still_open) as
    Flask-Login's loader does for the same value under the "basic" session protection. None
    when the session names nobody or when Flask-Login must decide (the "keep me logged in"
    cookie, "strong" session protection): the caller then asks ``current_user``. A disabled
    account is the caller's to refuse.
    """
    if "_login_user" in g:  # already loaded (and its login checked) for this request
        user = current_user
        return (user.id, user.login_session_id) if user.is_authenticated else None
    if login_manager.session_protection == "strong":
        return None
    return sessions.parse(session.get("_user_id"))


def is_anonymous() -> bool:
    """Whether nobody is logged in, read from the session and the "keep me logged in" cookie
    before asking Flask-Login (which would build its anonymous user for every visitor)."""
    if "_login_user" not in g and "_user_id" not in session:
        remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        if remember_cookie not in request.cookies:
            return True  # nothing that could name a user: Flask-Login would find nobody either
    return not current_user.is_authenticated


def can_judge(user, round_, *, reading: bool = False) -> bool:
    """Whether ``user`` may judge in ``round_``: an active judge of its contest's jury and the
    round open. ``reading``: may see their own work in it (closed rounds too), which needs
    entries dealt to them there."""
    if not getattr(user, "is_authenticated", False) or user.role is not Role.judge or not user.active:
        return False
    member = db.session.scalar(
        select(JuryMember.id).where(
            JuryMember.contest_id == round_.contest_id,
            JuryMember.judge_id == user.id,
            JuryMember.removed_at.is_(None),
        )
    )
    if member is None:
        return False
    if not reading:
        return round_.status is RoundStatus.open
    if round_.status is RoundStatus.draft:
        return False
    dealt = select(Assignment.id).where(Assignment.round_id == round_.id, Assignment.judge_id == user.id)
    return db.session.scalar(dealt.limit(1)) is not None
