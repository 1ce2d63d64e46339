"""Setting a contest up: the demo edition and its development accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.auth.models import User
from contest.contests.demo import DEMO_ACCOUNTS, DemoAccount, build_demo_contest
from contest.contests.models import Contest
from contest.db import now_utc


@dataclass(frozen=True)
class SeededAccount:
    account: DemoAccount
    created: bool


@dataclass(frozen=True)
class DemoSeed:
    contest: Contest
    contest_created: bool
    accounts: list[SeededAccount]

    @property
    def changed_anything(self) -> bool:
        return self.contest_created or any(a.created for a in self.accounts)


def seed_demo(session: Session, now: datetime | None = None) -> DemoSeed:
    """The demo contest and accounts, creating only what is missing (safe to run twice)."""
    contest, contest_created = build_demo_contest(session, now)
    accounts = [SeededAccount(account, ensure_demo_account(session, account)) for account in DEMO_ACCOUNTS]
    session.flush()
    return DemoSeed(contest, contest_created, accounts)


def ensure_demo_account(session: Session, account: DemoAccount) -> bool:
    """Create ``account`` unless its e-mail is taken; an existing account is left as it is."""
    if session.scalar(select(User.id).where(User.email == account.email)) is not None:
        return False
    user = User(
        email=account.email,
        full_name=account.full_name,
        role=account.role,
        country="VN",
        birth_year=account.birth_year,
        locale="vi",
        email_verified_at=now_utc(),
    )
    user.set_password(account.password)
    session.add(user)
    return True
