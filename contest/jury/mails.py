"""What judges are told by e-mail about a round, in their language, once per event: the round
is open (with how many entries they hold) and, as it closes, that it closes soon (only those
with entries still to judge). The worker's beat runs ``tell_rounds``: a judge dealt entries
later, when the jury changes mid-round, hears of the round then.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.jury.models import Round, RoundStatus
from contest.jury.progress import JudgeProgress, judges_progress
from contest.mail.services import mail_link, tell_user

# Judges with work left are warned once this close to the round's end.
CLOSING_SOON = timedelta(hours=48)


def tell_rounds(session: Session, now: datetime) -> int:
    """Every open round's judges: opened, and closing soon when it is; how many were told."""
    rounds = session.scalars(
        select(Round).where(Round.status == RoundStatus.open, Round.closes_at > now).order_by(Round.id)
    ).all()
    told = 0
    for round_ in rounds:
        progress = [p for p in judges_progress(session, round_) if p.assigned]
        told += tell_round_opened(session, round_, progress)
        if round_.closes_at <= now + CLOSING_SOON:
            told += warn_round_closing(session, round_, progress)
    return told


def tell_round_opened(session: Session, round_: Round, progress: list[JudgeProgress]) -> int:
    told = 0
    for p in progress:
        key = f"round.opened:{round_.id}:{p.judge.id}"
        told += _tell(session, round_, p, "round_opened", key) is not None
    return told


def warn_round_closing(session: Session, round_: Round, progress: list[JudgeProgress]) -> int:
    """The judges with entries left; the key holds the closing time, so a round given a later
    end warns again before it."""
    stamp = round_.closes_at.strftime("%Y%m%dT%H%M")
    told = 0
    for p in progress:
        if p.done < p.assigned:
            key = f"round.closing:{round_.id}:{stamp}:{p.judge.id}"
            told += _tell(session, round_, p, "round_closing", key) is not None
    return told


def _tell(session: Session, round_: Round, p: JudgeProgress, template: str, key: str):
    return tell_user(
        session,
        p.judge,
        template,
        event_key=key,
        round_=round_,  # its name is read in the judge's language, as the template renders
        assigned=p.assigned,
        done=p.done,
        link=mail_link("jury.round_page", round_id=round_.id),
    )
