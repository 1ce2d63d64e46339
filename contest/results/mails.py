"""Entrants told that the results are published, in their language, once per contest.

Winners are told by publication itself (``publication.tell_winners``, with their prize);
every other author of an accepted entry is told here, by the worker's beat: a contest
published within NOTICE_WINDOW whose entrants have not all been told yet.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.auth.models import User
from contest.contests.models import Contest
from contest.entries.models import Entry, EntryStatus
from contest.mail.models import OutboundEmail
from contest.mail.services import mail_link, tell_user
from contest.results.prizes import Award, PrizeSlot, Publication, PublicationState

NOTICE_WINDOW = timedelta(days=7)


def tell_results_published(session: Session, now: datetime) -> int:
    """Queue the e-mails of recently published contests not sent yet; how many were queued."""
    contest_ids = session.scalars(
        select(Publication.contest_id).where(
            Publication.state == PublicationState.published, Publication.published_at >= now - NOTICE_WINDOW
        )
    ).all()
    return sum(_tell_entrants(session, session.get(Contest, cid)) for cid in contest_ids)


def _tell_entrants(session: Session, contest: Contest) -> int:
    prefix = f"results.published:{contest.id}:"
    told = set(
        session.scalars(select(OutboundEmail.user_id).where(OutboundEmail.event_key.startswith(prefix)))
    )
    link = mail_link("results_public.index")
    count = 0
    for user in session.scalars(_entrants_without_prize(contest.id)):
        if user.id not in told:
            count += (
                tell_user(
                    session,
                    user,
                    "results_published",
                    event_key=prefix + str(user.id),
                    contest=contest,
                    link=link,
                )
                is not None
            )
    return count


def _entrants_without_prize(contest_id: int):
    winners = (
        select(Entry.author_id)
        .join(Award, Award.entry_id == Entry.id)
        .join(PrizeSlot, PrizeSlot.id == Award.slot_id)
        .where(PrizeSlot.contest_id == contest_id)
    )
    authors = select(Entry.author_id).where(
        Entry.contest_id == contest_id, Entry.status == EntryStatus.approved
    )
    return select(User).where(User.id.in_(authors), User.id.not_in(winners)).order_by(User.id)
