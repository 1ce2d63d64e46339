"""Where the contest stands now, what comes next and when, in words people read.

Phases come from the contest's dates and whether its results are published: before
submissions open (upcoming), submitting, voting (submissions closed, the public vote open or
about to open), judging (the vote closed, results not yet public), results. The countdown
goes to the next date in Vietnam time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_date, get_locale, ngettext

from contest.contests.models import Contest
from contest.timeutil import to_vn


class Phase(enum.StrEnum):
    upcoming = "upcoming"
    submitting = "submitting"
    voting = "voting"
    judging = "judging"
    results = "results"


class Milestone(enum.StrEnum):
    """What happens at the countdown's date."""

    submissions_open = "submissions_open"
    submissions_close = "submissions_close"
    voting_opens = "voting_opens"
    voting_closes = "voting_closes"
    results_announced = "results_announced"


@dataclass(frozen=True)
class PhaseNow:
    phase: Phase
    next_at: datetime | None  # the countdown's date; None: nothing announced
    milestone: Milestone | None


def phase_now(contest: Contest, published: bool, now: datetime) -> PhaseNow:
    """The contest's phase at ``now``; ``published``: its results are public."""
    if published:
        return PhaseNow(Phase.results, None, None)
    if now < contest.submission_opens_at:
        return PhaseNow(Phase.upcoming, contest.submission_opens_at, Milestone.submissions_open)
    if now < contest.submission_closes_at:
        return PhaseNow(Phase.submitting, contest.submission_closes_at, Milestone.submissions_close)
    if now < contest.voting_opens_at:
        return PhaseNow(Phase.voting, contest.voting_opens_at, Milestone.voting_opens)
    if now < contest.voting_closes_at:
        return PhaseNow(Phase.voting, contest.voting_closes_at, Milestone.voting_closes)
    results_at = contest.results_at if contest.results_at and contest.results_at > now else None
    return PhaseNow(Phase.judging, results_at, Milestone.results_announced if results_at else None)


def seconds_until_change(contest: Contest, now: datetime) -> float | None:
    """Seconds until the next of the contest's dates (the phase may change then)."""
    dates = (
        contest.submission_opens_at,
        contest.submission_closes_at,
        contest.voting_opens_at,
        contest.voting_closes_at,
        contest.results_at,
    )
    return min(((at - now).total_seconds() for at in dates if at is not None and at > now), default=None)


def time_left(until: datetime, now: datetime) -> str:
    """ "12 days left" / "còn 12 ngày"; hours under a day, minutes under an hour."""
    seconds = max(0, int((until - now).total_seconds()))
    days, hours, minutes = seconds // 86400, seconds // 3600, max(1, seconds // 60)
    if days:
        return ngettext("%(num)d day left", "%(num)d days left", days)
    if hours:
        return ngettext("%(num)d hour left", "%(num)d hours left", hours)
    return ngettext("%(num)d minute left", "%(num)d minutes left", minutes)


def reading_date(moment: datetime) -> str:
    """The Vietnam date as people write it: "2 tháng 2, 2027", "2 February 2027"."""
    day = to_vn(moment).date()
    return format_date(day, "long" if str(get_locale()) == "vi" else "d MMMM y")
