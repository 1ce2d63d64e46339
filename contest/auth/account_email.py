"""Changing an account's e-mail address: a link to the new address, a notice to the old one.

The address changes only when the link sent to the new one is opened, so a typing mistake
never locks anyone out. The link names the address it moves to and a fingerprint of the
account's current address and of its last change: once used (or once any other change is
confirmed) it stops working. Functions flush; the caller commits.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.auth.models import User
from contest.auth.services import WrongPassword, external_url, find_user, normalize_email
from contest.auth.tokens import (
    TokenProblem,
    TokenRejected,
    address_fingerprint,
    email_change_token,
    read_email_change_token,
)
from contest.db import now_utc
from contest.mail.services import queue_email, record_for, render_email


class EmailTaken(Exception):
    """The new address's mailbox already has an account."""


class SameEmail(Exception):
    """The new address is the account's own mailbox."""


def request_email_change(session: Session, user: User, new_email: str, password: str) -> bool:
    """Send the link that moves ``user`` to ``new_email``: True if sent, False when the mailbox
    already has an account (the caller answers the same either way: the form does not tell
    who has an account). Raises WrongPassword, SameEmail."""
    if not user.check_password(password):
        raise WrongPassword()
    new_email = normalize_email(new_email)
    owner = find_user(session, new_email)
    if owner is not None and owner.id == user.id:
        raise SameEmail()
    if owner is not None:
        return False
    link = external_url("account.confirm_email_change", token=email_change_token(user, new_email))
    hours = current_app.config["EMAIL_TOKEN_MAX_AGE_S"] // 3600
    subject, body = render_email("change_email", user.locale, link=link, hours=hours, email=new_email)
    queue_email(session, new_email, subject, body, **record_for(user, "change_email"))
    return True


def confirm_email_change(session: Session, token: str) -> User:
    """Move the account to the link's address, confirmed, and tell the old address; raises
    TokenRejected (a used, stale or foreign link) or EmailTaken."""
    user_id, new_email, fingerprint = read_email_change_token(token)
    user = session.get(User, user_id)
    if user is None or not user.is_active or address_fingerprint(user) != fingerprint:
        raise TokenRejected(TokenProblem.invalid)
    if find_user(session, new_email) is not None:
        raise EmailTaken()
    old_email = user.email
    user.email = new_email
    user.email_verified_at = user.email_changed_at = now_utc()
    session.flush()
    _tell_old_address(session, user, old_email)
    record(session, actor_id=user.id, action="account.email_changed", subject_type="user", subject_id=user.id)
    return user


def _tell_old_address(session: Session, user: User, old_email: str) -> None:
    subject, body = render_email("email_changed", user.locale, new_email=masked(user.email))
    queue_email(session, old_email, subject, body, **record_for(user, "email_changed"))


def masked(address: str) -> str:
    """ "lan.nguyen@example.com" as "l********n@example.com": enough for the owner to know it,
    not enough for whoever reads the old mailbox to write to it."""
    local, _at, domain = address.rpartition("@")
    if len(local) <= 2:
        return f"{local[:1]}*@{domain}"
    return f"{local[0]}{'*' * (len(local) - 2)}{local[-1]}@{domain}"
