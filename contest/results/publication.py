"""Freezing the results, publishing them now or at a set time, and the one public reader.

``public_awards`` is the only door through which a public page learns of a prize: it
answers nothing until the results are published (``published_at`` set, which happens in
the same transaction that moves the contest's public version on, so no kept page outlives
it). Publication tells each winner by e-mail, in the same transaction (an outbox row,
delivered once the commit lands) and marks the award ``sent_at``, so running it twice never
mails anyone twice. Services flush; the request, or the worker's task, commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, has_request_context
from flask_babel import get_locale
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.auth.services import external_url
from contest.contests.models import Contest
from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus
from contest.jury.models import Round, RoundStatus
from contest.mail.services import queue_email, record_for, render_email
from contest.results.prizes import (
    Award,
    InvalidPublicationTransition,
    PrizeSlot,
    Publication,
    PublicationState,
    PublishedRanking,
)


class PublicationRefused(ValueError):
    """A step the publication's state does not allow; the message is for the organizer."""


@dataclass(frozen=True)
class PublicPrize:
    """A prize as the public sees it (names in both languages: pages are kept per language)."""

    slot_id: int
    kind: str
    name_vi: str
    name_en: str
    place: int
    category_id: int | None
    position: int

    @property
    def name(self) -> str:
        return self.name_en if str(get_locale() or "vi") == "en" else self.name_vi


def publication_of(session: Session, contest_id: int, *, lock: bool = False) -> Publication:
    """The contest's publication row (a draft one is added the first time)."""
    pub = session.get(Publication, contest_id, with_for_update=lock or None)
    if pub is None:
        pub = Publication(contest_id=contest_id, state=PublicationState.draft)
        session.add(pub)
        session.flush()
    return pub


def current_publication(session: Session, contest_id: int) -> Publication:
    """The contest's publication as it stands; an unsaved draft when none was made yet."""
    return session.get(Publication, contest_id) or Publication(
        contest_id=contest_id, state=PublicationState.draft
    )


def is_published(session: Session, contest_id: int, now: datetime | None = None) -> bool:
    published_at = session.scalar(
        select(Publication.published_at).where(Publication.contest_id == contest_id)
    )
    return published_at is not None and published_at <= (now or now_utc())


def public_awards(
    session: Session, contest_id: int, now: datetime | None = None
) -> dict[int, list[PublicPrize]]:
    """Entry id -> its prizes, once the contest's results are published; ``{}`` before."""
    if not is_published(session, contest_id, now):
        return {}
    rows = session.execute(
        select(Award.entry_id, Award.place, PrizeSlot)
        .join(PrizeSlot, PrizeSlot.id == Award.slot_id)
        .join(Entry, Entry.id == Award.entry_id)
        .where(PrizeSlot.contest_id == contest_id, Entry.status == EntryStatus.approved)
        .order_by(PrizeSlot.position, PrizeSlot.id, Award.place)
    )
    found: dict[int, list[PublicPrize]] = {}
    for entry_id, place, slot in rows:
        prize = PublicPrize(
            slot.id, slot.kind.value, slot.name_vi, slot.name_en, place, slot.category_id, slot.position
        )
        found.setdefault(entry_id, []).append(prize)
    return found


def published_digest(session: Session, round_id: int) -> str | None:
    """The ranking digest of a round whose contest's results are published, else None."""
    row = session.execute(
        select(PublishedRanking.digest, Publication.published_at)
        .join(Publication, Publication.contest_id == PublishedRanking.contest_id)
        .where(PublishedRanking.round_id == round_id)
    ).first()
    return row.digest if row is not None and row.published_at is not None else None


# --- the organizer's steps -----------------------------------------------------------------
def freeze(session: Session, contest: Contest, *, actor_id: int) -> Publication:
    """Fix the awards and record each closed round's ranking digest."""
    pub = _step(session, contest, PublicationState.frozen, frozen_at=now_utc(), frozen_by_id=actor_id)
    digests = _record_digests(session, contest)
    _audit(session, actor_id, "results.frozen", contest, details={"digests": digests})
    return pub


def unfreeze(session: Session, contest: Contest, reason: str, *, actor_id: int) -> Publication:
    """Back to a draft, before publication only, with a reason."""
    if not reason.strip():
        raise PublicationRefused("reason_needed")
    pub = _step(session, contest, PublicationState.draft, frozen_at=None, frozen_by_id=None, publish_at=None)
    for ranking in session.scalars(select(PublishedRanking).where(PublishedRanking.contest_id == contest.id)):
        session.delete(ranking)
    session.flush()
    _audit(session, actor_id, "results.unfrozen", contest, reason=reason.strip())
    return pub


def schedule(session: Session, contest: Contest, publish_at: datetime, *, actor_id: int) -> Publication:
    """Publish at ``publish_at`` (the worker does it); the time must be ahead."""
    if publish_at <= now_utc():
        raise PublicationRefused("time_passed")
    pub = publication_of(session, contest.id, lock=True)
    if pub.state is PublicationState.scheduled:
        pub.publish_at = publish_at
        session.flush()
    else:
        _step(session, contest, PublicationState.scheduled, publish_at=publish_at)
    _audit(session, actor_id, "results.scheduled", contest, details={"publish_at": publish_at.isoformat()})
    return pub


def publish_now(session: Session, contest: Contest, *, actor_id: int) -> Publication:
    pub = _step(session, contest, PublicationState.published, published_at=now_utc())
    return _publish(session, contest, pub, actor_id)


def publish_due(session: Session, now: datetime | None = None) -> list[int]:
    """Publish every contest whose time has come (the worker's task); ids of those published."""
    now = now or now_utc()
    due = session.scalars(
        select(Publication.contest_id).where(
            Publication.state == PublicationState.scheduled, Publication.publish_at <= now
        )
    ).all()
    published = []
    for contest_id in due:
        pub = session.get(Publication, contest_id, with_for_update=True, populate_existing=True)
        if pub.state is not PublicationState.scheduled:  # another run was first
            continue
        contest = session.get(Contest, contest_id)
        _publish(
            session, contest, _step(session, contest, PublicationState.published, published_at=now), None
        )
        published.append(contest_id)
    return published


def _step(session: Session, contest: Contest, new: PublicationState, **dates) -> Publication:
    """Move the contest's publication to ``new`` (PUBLICATION_TRANSITIONS' rule), with its dates."""
    pub = publication_of(session, contest.id, lock=True)
    try:
        pub.transition(new)
    except InvalidPublicationTransition as exc:
        raise PublicationRefused(f"{pub.state.value}->{new.value}") from exc
    for name, value in dates.items():
        setattr(pub, name, value)
    session.flush()
    return pub


def _publish(session: Session, contest: Contest, pub: Publication, actor_id: int | None) -> Publication:
    # What the public pages show changes: their kept copies must go (contest.gallery.versions).
    session.execute(
        update(Contest).where(Contest.id == contest.id).values(public_version=Contest.public_version + 1)
    )
    told = tell_winners(session, contest)
    session.flush()
    _audit(session, actor_id, "results.published", contest, details={"winners_told": told})
    return pub


def _record_digests(session: Session, contest: Contest) -> dict[str, str]:
    from contest.results.readout import ranking_digest, round_sheet
    from contest.results.tally import tally

    rounds = session.scalars(
        select(Round)
        .where(Round.contest_id == contest.id, Round.status == RoundStatus.closed)
        .order_by(Round.id)
    ).all()
    digests = {}
    for round_ in rounds:
        digest = ranking_digest(tally(round_sheet(session, round_.id)[0]))
        existing = session.get(PublishedRanking, round_.id)
        if existing is None:
            session.add(PublishedRanking(round_id=round_.id, contest_id=contest.id, digest=digest))
        else:
            existing.digest, existing.recorded_at = digest, now_utc()
        digests[str(round_.id)] = digest
    session.flush()
    return digests


# --- the winners' e-mail ------------------------------------------------------------------
def tell_winners(session: Session, contest: Contest) -> int:
    """Queue one e-mail per award not yet told, in the winner's language; returns how many."""
    awards = session.scalars(
        select(Award)
        .join(PrizeSlot, PrizeSlot.id == Award.slot_id)
        .where(PrizeSlot.contest_id == contest.id, Award.sent_at.is_(None))
        .order_by(Award.id)
        .with_for_update(of=Award)
    ).all()
    if not awards:
        return 0
    link = _results_link()
    for award in awards:
        _mail_winner(session, contest, award, link)
        award.sent_at = now_utc()
    return len(awards)


def _mail_winner(session: Session, contest: Contest, award: Award, link: str) -> None:
    entry, slot = award.entry, session.get(PrizeSlot, award.slot_id)
    locale = entry.author.locale if entry.author.locale in ("vi", "en") else "vi"
    subject, body = render_email(
        "winner",
        locale,
        prize=getattr(slot, f"name_{locale}"),
        place=award.place,
        code=entry.code,
        title=entry.title,
        contest_title=getattr(contest, f"title_{locale}"),
        author=entry.author.full_name,
        link=link,
    )
    queue_email(session, entry.author.email, subject, body, **record_for(entry.author, "winner", locale))


def _results_link() -> str:
    """The public results page's address (the worker has no request: the site's configured one)."""
    if has_request_context():
        return external_url("results_public.index")
    base = current_app.config.get("PUBLIC_BASE_URL") or "http://localhost"
    with current_app.test_request_context("/", base_url=base):
        return external_url("results_public.index")


def _audit(session, actor_id, action, contest: Contest, reason: str = "", details=None) -> None:
    record(
        session,
        actor_id=actor_id,
        action=action,
        subject_type="contest",
        subject_id=contest.id,
        contest_id=contest.id,
        reason=reason,
        details=details,
    )
