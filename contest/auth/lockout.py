"""Wrong passwords counted per account, beside the per-address limit (LOGIN_RATE_LIMIT).

A carrier's NAT puts many people behind one address, and an attacker spreads over many:
so failed log-ins are also counted per mailbox (LOGIN_FAILURE_LIMIT_PER_ACCOUNT) in
Flask-Limiter's storage. While that count is spent, every attempt for the mailbox is
refused, the right password too, until its window ends (minutes). A lock cannot keep the
owner out for long: the counter is named after the password as well (its fingerprint), so
a new password through "forgot password" starts a fresh count. An address without an
account is counted the same way: the lock says nothing about who has one.
"""

from __future__ import annotations

import hashlib
import math

from flask import current_app

from contest import ratelimit
from contest.auth.emails import canonical_email
from contest.auth.models import User
from contest.auth.tokens import password_fingerprint

SCOPE = "login-failures"


class AccountLocked(Exception):
    """Too many wrong passwords for this mailbox lately: ``minutes`` before the next try."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(wait_s)
        self.minutes = max(1, math.ceil(wait_s / 60))


def counter_for(email: str, user: User | None) -> str:
    """The failure counter's name for this mailbox and its current password (no address in clear)."""
    password = password_fingerprint(user) if user is not None else ""
    return hashlib.sha256(f"{canonical_email(email)}\n{password}".encode()).hexdigest()[:32]


def _limits() -> str:
    return current_app.config["LOGIN_FAILURE_LIMIT_PER_ACCOUNT"]


def refuse_if_locked(counter: str) -> None:
    """Raise AccountLocked while the counter's limits are spent."""
    wait_s = ratelimit.wait_s(_limits(), SCOPE, counter)
    if wait_s > 0:
        raise AccountLocked(wait_s)


def count_failure(counter: str) -> None:
    ratelimit.within(_limits(), SCOPE, counter)


def forget_failures(counter: str) -> None:
    """A successful log-in ends the run of failures."""
    ratelimit.forget(_limits(), SCOPE, counter)
