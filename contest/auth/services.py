"""Accounts: registration, e-mail confirmation, log-in checks, passwords, staff accounts.

Every function flushes and leaves the commit to its caller (the request or the CLI).
E-mails go through the outbox in the same transaction, in the recipient's language.
"""

from __future__ import annotations

import secrets
from functools import cache

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from contest.auth import lockout, sessions
from contest.auth.emails import canonical_email
from contest.auth.models import Role, User
from contest.auth.tokens import (
    TokenProblem,
    TokenRejected,
    email_verification_token,
    judge_invitation_token,
    password_fingerprint,
    password_reset_token,
    read_email_verification_token,
    read_judge_invitation_token,
    read_password_reset_token,
)
from contest.db import now_utc
from contest.mail.models import OutboundEmail
from contest.mail.services import queue_email, record_for, render_email
from contest.ratelimit import within

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
SIGNUP_NOTICES_PER_ACCOUNT = "3 per day"


class BadCredentials(Exception):
    """Unknown e-mail address or wrong password (never say which)."""


class AccountDisabled(Exception):
    """The password is right but the account was switched off by the organizers."""


class WrongPassword(Exception):
    """The current password given to change it is not the account's."""


def normalize_email(raw: str) -> str:
    """One mailbox is one account: addresses are stored trimmed and in lower case."""
    return raw.strip().lower()


def find_user(session: Session, email: str) -> User | None:
    """The account of the mailbox behind ``email``, whichever spelling of it is given."""
    return session.scalar(select(User).where(User.email_canonical == canonical_email(email)))


def external_url(endpoint: str, **values) -> str:
    """An absolute link for an e-mail, on the configured public address of the site.

    PUBLIC_BASE_URL rather than the request's Host header: a forged Host must not turn a
    password-reset link into a link to someone else's site.
    """
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    if not base:
        return url_for(endpoint, _external=True, **values)
    return base + url_for(endpoint, **values)


# --- registration and e-mail confirmation ----------------------------------------------
def register_entrant(
    session: Session, *, email: str, password: str, full_name: str, country: str, birth_year: int, locale: str
) -> User | None:
    """Create an entrant and queue the e-mail that confirms the address; None when the mailbox
    already has an account.

    The visitor is answered the same either way (the view): the mailbox's owner, not the
    visitor, learns that it has an account, by an e-mail with the log-in and reset links.
    The password is hashed either way, so the answer's time does not tell it either.
    """
    user = User(
        email=normalize_email(email),
        full_name=full_name.strip(),
        country=country,
        birth_year=birth_year,
        role=Role.entrant,
        locale=locale,
    )
    user.set_password(password)
    existing = find_user(session, user.email)
    if existing is not None:
        send_signup_attempt_email(session, existing)
        return None
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        return None  # a concurrent sign-up of the same mailbox won; its own e-mail goes out
    send_verification_email(session, user)
    return user


def send_verification_email(session: Session, user: User) -> OutboundEmail:
    link = external_url("auth.verify_email", token=email_verification_token(user))
    hours = current_app.config["EMAIL_TOKEN_MAX_AGE_S"] // 3600
    subject, body = render_email("verify_email", user.locale, link=link, hours=hours)
    return queue_email(session, user.email, subject, body, **record_for(user, "verify_email"))


def send_signup_attempt_email(session: Session, user: User) -> OutboundEmail | None:
    """Tell an account's owner that someone tried to sign up with its address.

    None for a disabled account, and beyond SIGNUP_NOTICES_PER_ACCOUNT: sign-ups spread over
    many addresses must not turn the notice into a way to flood someone's mailbox.
    """
    if not user.is_active or not within(SIGNUP_NOTICES_PER_ACCOUNT, "signup-notice", str(user.id)):
        return None
    subject, body = render_email(
        "signup_attempt",
        user.locale,
        login_link=external_url("auth.login"),
        reset_link=external_url("auth.forgot_password"),
    )
    return queue_email(session, user.email, subject, body, **record_for(user, "signup_attempt"))


def confirm_email(session: Session, token: str) -> tuple[User, bool]:
    """Mark the address of the link as confirmed: (user, newly confirmed); raises TokenRejected.

    The link names the address it was sent to, so it stops working if the address changed.
    """
    user_id, email = read_email_verification_token(token)
    user = session.get(User, user_id)
    if user is None or user.email != email:
        raise TokenRejected(TokenProblem.invalid)
    if user.is_verified:
        return user, False
    user.email_verified_at = now_utc()
    session.flush()
    return user, True


# --- logging in -------------------------------------------------------------------------
@cache
def _dummy_hash() -> str:
    return generate_password_hash("not a real password")


def check_credentials(session: Session, email: str, password: str) -> User:
    """The account for these credentials, its last log-in recorded; raises BadCredentials,
    or lockout.AccountLocked after too many wrong passwords for the mailbox (contest.auth.lockout).

    An unknown address costs the same hashing time as a wrong password, and is counted
    and locked the same way, so neither answers nor times tell which addresses have accounts.
    """
    user = find_user(session, email)
    counter = lockout.counter_for(email, user)
    lockout.refuse_if_locked(counter)
    if user is None:
        check_password_hash(_dummy_hash(), password)
    if user is None or not user.check_password(password):
        lockout.count_failure(counter)
        raise BadCredentials()
    lockout.forget_failures(counter)
    if not user.is_active:
        raise AccountDisabled()
    user.last_login_at = now_utc()
    session.flush()
    return user


# --- password reset ---------------------------------------------------------------------
def request_password_reset(session: Session, email: str) -> OutboundEmail | None:
    """Queue a reset link when an active account has this address; None otherwise.

    The caller answers the same either way, so the form does not reveal who has an account.
    """
    user = find_user(session, email)
    if user is None or not user.is_active:
        return None
    link = external_url("auth.reset_password", token=password_reset_token(user))
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE_S"] // 60
    subject, body = render_email("reset_password", user.locale, link=link, minutes=minutes)
    return queue_email(session, user.email, subject, body, **record_for(user, "reset_password"))


def user_for_reset_token(session: Session, token: str, *, invitation: bool = False) -> User:
    """The account a reset link (or a judge's invitation) is for, if the link is still good;
    raises TokenRejected.

    The link carries a fingerprint of the password hash: once the password is changed,
    the link is used up.
    """
    read = read_judge_invitation_token if invitation else read_password_reset_token
    user_id, fingerprint = read(token)
    user = session.get(User, user_id)
    if user is None or not user.is_active or password_fingerprint(user) != fingerprint:
        raise TokenRejected(TokenProblem.invalid)
    return user


def reset_password(session: Session, token: str, new_password: str, *, invitation: bool = False) -> User:
    """Set a new password through a reset link; raises TokenRejected.

    Receiving the link proves the mailbox is theirs, so an unconfirmed address is confirmed,
    and every login of the account ends: whoever else was logged in (someone who signed up
    with this address before its owner, or who knew the old password) is logged out.
    """
    user = user_for_reset_token(session, token, invitation=invitation)
    user.set_password(new_password)
    if not user.is_verified:
        user.email_verified_at = now_utc()
    sessions.end_all(session, user.id)
    session.flush()
    return user


def change_password(session: Session, user: User, current_password: str, new_password: str) -> int:
    """Set a new password for a logged-in account and end its logins on every other device.

    Returns how many logins ended; raises WrongPassword (the current one must be given, so a
    borrowed open session cannot lock its owner out).
    """
    if not user.check_password(current_password):
        raise WrongPassword()
    user.set_password(new_password)
    session.flush()
    return sessions.end_all(session, user.id, keep=user.login_session_id)


# --- invited judges ---------------------------------------------------------------------
def invite_judge(session: Session, *, email: str, full_name: str, locale: str) -> User:
    """A new judge account, unconfirmed and with a random password nobody knows, and the
    e-mail with its link to choose a password (which confirms the address); raises ValueError
    when the mailbox already has an account."""
    if find_user(session, email) is not None:
        raise ValueError("the mailbox already has an account")
    user = User(
        email=normalize_email(email),
        full_name=full_name.strip(),
        country="VN",
        birth_year=None,
        role=Role.judge,
        locale=locale,
    )
    user.set_password(secrets.token_urlsafe(32))
    session.add(user)
    session.flush()
    send_judge_invitation(session, user)
    return user


def send_judge_invitation(session: Session, user: User) -> OutboundEmail:
    """The invitation e-mail, in the judge's language: fixed wording and the link only."""
    link = external_url("auth.accept_invitation", token=judge_invitation_token(user))
    days = current_app.config["JUDGE_INVITATION_MAX_AGE_S"] // (24 * 3600)
    subject, body = render_email("judge_invitation", user.locale, link=link, days=days)
    return queue_email(session, user.email, subject, body, **record_for(user, "judge_invitation"))


# --- staff accounts (CLI) ---------------------------------------------------------------
def create_staff(
    session: Session, *, role: Role, email: str, full_name: str | None, password: str | None
) -> tuple[User, Role | None]:
    """Create a confirmed account with ``role``, or give an existing account that role.

    Returns (user, the role it had before, None when the account is new). An existing
    account keeps its password unless ``password`` is given. Raises ValueError when a new
    account lacks a name or a password.
    """
    email = normalize_email(email)
    user = find_user(session, email)
    previous = None
    if user is None:
        if not full_name or not full_name.strip():
            raise ValueError("a new account needs a full name (--name)")
        if not password:
            raise ValueError("a new account needs a password")
        user = User(
            email=email,
            full_name=full_name.strip(),
            country="VN",
            birth_year=None,
            locale=current_app.config["BABEL_DEFAULT_LOCALE"],
        )
        session.add(user)
    else:
        previous = user.role
        if full_name and full_name.strip():
            user.full_name = full_name.strip()
    user.role = role
    if password:
        user.set_password(password)
    if password and previous is not None:
        sessions.end_all(session, user.id)  # a new password ends the logins made with the old one
    if not user.is_verified:
        user.email_verified_at = now_utc()
    session.flush()
    return user, previous
