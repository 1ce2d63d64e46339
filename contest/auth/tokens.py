"""Signed, expiring links sent by e-mail: confirm an address, change it, reset a password.

A token is signed with the application's SECRET_KEY and a salt per purpose, so a token
made for one purpose is refused by the other. Its payload is readable (signed, not
encrypted): it never carries a secret, only ids and fingerprints.
"""

from __future__ import annotations

import enum
import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from contest.auth.models import User

VERIFY_EMAIL_SALT = "verify-email"
RESET_PASSWORD_SALT = "reset-password"
JUDGE_INVITATION_SALT = "judge-invitation"
CHANGE_EMAIL_SALT = "change-email"


class TokenProblem(enum.StrEnum):
    expired = "expired"
    invalid = "invalid"


class TokenRejected(Exception):
    """The link cannot be used; ``problem`` says whether it is too old or not ours at all."""

    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _load(salt: str, token: str, max_age_s: int) -> dict:
    try:
        payload = _serializer(salt).loads(token, max_age=max_age_s)
    except SignatureExpired as exc:
        raise TokenRejected(TokenProblem.expired) from exc
    except BadSignature as exc:
        raise TokenRejected(TokenProblem.invalid) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int):
        raise TokenRejected(TokenProblem.invalid)
    return payload


def password_fingerprint(user: User) -> str:
    """Changes whenever the password is set again (the hash is salted), so a reset link works once."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def email_verification_token(user: User) -> str:
    return _serializer(VERIFY_EMAIL_SALT).dumps({"uid": user.id, "email": user.email})


def read_email_verification_token(token: str) -> tuple[int, str]:
    """(user id, e-mail address) the link was made for; raises TokenRejected."""
    payload = _load(VERIFY_EMAIL_SALT, token, current_app.config["EMAIL_TOKEN_MAX_AGE_S"])
    if not isinstance(payload.get("email"), str):
        raise TokenRejected(TokenProblem.invalid)
    return payload["uid"], payload["email"]


def address_fingerprint(user: User) -> str:
    """Changes whenever the address does, so an e-mail change link works once."""
    changed = user.email_changed_at.isoformat() if user.email_changed_at else ""
    return hashlib.sha256(f"{user.email_canonical}|{changed}".encode()).hexdigest()[:20]


def email_change_token(user: User, new_email: str) -> str:
    payload = {"uid": user.id, "email": new_email, "was": address_fingerprint(user)}
    return _serializer(CHANGE_EMAIL_SALT).dumps(payload)


def read_email_change_token(token: str) -> tuple[int, str, str]:
    """(user id, new address, fingerprint of the address it replaces); raises TokenRejected."""
    payload = _load(CHANGE_EMAIL_SALT, token, current_app.config["EMAIL_TOKEN_MAX_AGE_S"])
    if not isinstance(payload.get("email"), str) or not isinstance(payload.get("was"), str):
        raise TokenRejected(TokenProblem.invalid)
    return payload["uid"], payload["email"], payload["was"]


def password_reset_token(user: User) -> str:
    return _serializer(RESET_PASSWORD_SALT).dumps({"uid": user.id, "pw": password_fingerprint(user)})


def read_password_reset_token(token: str) -> tuple[int, str]:
    """(user id, password fingerprint) the link was made for; raises TokenRejected."""
    return _read_password_link(RESET_PASSWORD_SALT, token, current_app.config["PASSWORD_RESET_MAX_AGE_S"])


def judge_invitation_token(user: User) -> str:
    """A link for an invited judge to choose their first password: a reset link that lives
    longer (JUDGE_INVITATION_MAX_AGE_S), under its own salt."""
    return _serializer(JUDGE_INVITATION_SALT).dumps({"uid": user.id, "pw": password_fingerprint(user)})


def read_judge_invitation_token(token: str) -> tuple[int, str]:
    """(user id, password fingerprint) the invitation was made for; raises TokenRejected."""
    max_age_s = current_app.config["JUDGE_INVITATION_MAX_AGE_S"]
    return _read_password_link(JUDGE_INVITATION_SALT, token, max_age_s)


def _read_password_link(salt: str, token: str, max_age_s: int) -> tuple[int, str]:
    payload = _load(salt, token, max_age_s)
    if not isinstance(payload.get("pw"), str):
        raise TokenRejected(TokenProblem.invalid)
    return payload["uid"], payload["pw"]
