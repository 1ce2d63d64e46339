"""The account page's changes: name, country and language; deleting the account.

Deleting keeps what the contest's rules need and nothing that names the person. The entries
are withdrawn through the entrant's own withdraw path (their files are deleted after the
commit, as for any withdrawal). The votes cast stay, still counted (the rules count every
valid vote; only fake accounts' votes are voided, which the organizers' review can still do,
since the votes keep their account and their hashed signals). The account row stays as a
tombstone so that those votes and the audit log keep their references: no name, an address
at an unusable domain, no birth year, a password nobody knows, switched off, every login ended.
Functions flush; the caller commits.
"""

from __future__ import annotations

import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.auth import sessions
from contest.auth.models import Role, User
from contest.auth.services import WrongPassword
from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus
from contest.entries.services import withdraw_entry
from contest.mail.models import OutboundEmail
from contest.results.prizes import Award

# The tombstone's address: unique per account, at a domain that can receive nothing
# (RFC 2606), and without letters before the "@" that the look-alike review could match.
TOMBSTONE_DOMAIN = "deleted.invalid"


def update_details(user: User, *, full_name: str, country: str, locale: str) -> bool:
    """Save the account's name, country and language; True when something changed."""
    changed = (user.full_name, user.country, user.locale) != (full_name, country, locale)
    user.full_name, user.country, user.locale = full_name, country, locale
    return changed


def may_delete(user: User) -> bool:
    """Entrants delete their own accounts; judges' and organizers' accounts are the organizers' to close."""
    return user.role is Role.entrant and user.deleted_at is None


def delete_account(session: Session, user: User, password: str) -> int:
    """Withdraw the entries, erase the personal data, end every login; returns how many
    entries were withdrawn. Raises WrongPassword (a borrowed open session cannot delete)."""
    if not user.check_password(password):
        raise WrongPassword()
    if holds_prize(session, user):
        raise HoldsPrize()
    withdrawn = _withdraw_entries(session, user)
    session.execute(delete(OutboundEmail).where(OutboundEmail.recipient == user.email))
    _erase(user)
    sessions.end_all(session, user.id)
    record(
        session,
        actor_id=user.id,
        action="account.deleted",
        subject_type="user",
        subject_id=user.id,
        details={"entries_withdrawn": withdrawn},
    )
    session.flush()
    return withdrawn


class HoldsPrize(Exception):
    """An entry of the account is given or proposed a prize: withdrawing it would change results
    the organizers may have frozen or published, so the organizers handle it."""


def holds_prize(session: Session, user: User) -> bool:
    theirs = select(Entry.id).where(Entry.author_id == user.id)
    awarded = select(Award.id).where(Award.entry_id.in_(theirs) | Award.proposed_entry_id.in_(theirs))
    return session.scalar(awarded.limit(1)) is not None


def _withdraw_entries(session: Session, user: User) -> int:
    entries = session.scalars(
        select(Entry).where(Entry.author_id == user.id, Entry.status != EntryStatus.withdrawn)
    ).all()
    for entry in entries:
        withdraw_entry(session, entry)
    return len(entries)


def _erase(user: User) -> None:
    user.email = f"{user.id}@{TOMBSTONE_DOMAIN}"
    user.full_name = ""
    user.birth_year = None
    user.set_password(secrets.token_urlsafe(32))
    user.active = False
    user.email_verified_at = None
    user.deleted_at = now_utc()
