"""Staff accounts for organizers: judges and organizers invited by e-mail, roles changed, accounts
disabled; every change is audited. Services flush; the request commits."""

from __future__ import annotations

import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.auth import sessions
from contest.auth.models import Role, User
from contest.auth.services import external_url, find_user, normalize_email, send_judge_invitation
from contest.auth.tokens import judge_invitation_token
from contest.mail.services import queue_email, render_email


class StaffRefused(ValueError):
    """A change the rules do not allow; the message is for the organizer."""


def staff_accounts(session: Session) -> list[User]:
    """Organizers and judges, by role then name (entrants are far too many to list here)."""
    staff = select(User).where(User.role != Role.entrant, User.deleted_at.is_(None))
    return list(session.scalars(staff.order_by(User.role.desc(), User.full_name)))


def find_account(session: Session, email: str) -> User | None:
    return find_user(session, email)


def invite(session: Session, *, email: str, full_name: str, locale: str, role: Role, actor_id: int) -> User:
    """A new account with ``role`` and a password nobody knows, and the e-mail with its link to
    choose one (which confirms the address)."""
    if role is Role.entrant:
        raise StaffRefused(_l("Only judges and organizers are invited."))
    if find_user(session, email) is not None:
        raise StaffRefused(_l("This e-mail address already has an account: change its role instead."))
    user = User(email=normalize_email(email), full_name=full_name.strip(), role=role, locale=locale)
    user.set_password(secrets.token_urlsafe(32))
    session.add(user)
    session.flush()
    send_invitation(session, user)
    _audit(session, actor_id, "account.invited", user, {"role": role.value})
    return user


def send_invitation(session: Session, user: User) -> None:
    if user.role is Role.judge:
        send_judge_invitation(session, user)
        return
    link = external_url("auth.accept_invitation", token=judge_invitation_token(user))
    days = current_app.config["JUDGE_INVITATION_MAX_AGE_S"] // (24 * 3600)
    subject, body = render_email("organizer_invitation", user.locale, link=link, days=days)
    queue_email(session, user.email, subject, body)


def change_role(session: Session, user: User, role: Role, *, actor: User) -> None:
    if user.id == actor.id:
        raise StaffRefused(_l("You cannot change your own role."))
    if user.role is role:
        return
    before = user.role
    user.role = role
    session.flush()
    _audit(session, actor.id, "account.role_changed", user, {"from": before.value, "to": role.value})


def set_active(session: Session, user: User, active: bool, *, actor: User) -> None:
    """Disable an account (it can no longer log in, and its open logins end) or enable it again."""
    if user.id == actor.id:
        raise StaffRefused(_l("You cannot disable your own account."))
    if user.active is active:
        return
    user.active = active
    if not active:
        sessions.end_all(session, user.id)
    session.flush()
    _audit(session, actor.id, "account.enabled" if active else "account.disabled", user, None)


def _audit(session: Session, actor_id: int, action: str, user: User, details: dict | None) -> None:
    record(
        session, actor_id=actor_id, action=action, subject_type="user", subject_id=user.id, details=details
    )
