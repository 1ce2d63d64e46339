"""What happens next to an entry: one line per status for its author, and the steps after submitting.

The dates are the contest's own (shown in Vietnam time); no delay is promised that the contest
does not set. A rejected entry's reason is the organizer's, from the audit log (it is written
for the entrant: the reject form says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_date, format_time
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from contest.audit.models import AuditEvent
from contest.contests.models import Contest
from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus
from contest.entries.texts import page_language

# The colour of a status on the author's pages: the worker's two steps look alike.
STATE_CLASSES = {
    EntryStatus.draft: "state-withdrawn",
    EntryStatus.submitted: "state-processing",
    EntryStatus.processing: "state-processing",
    EntryStatus.pending_review: "state-pending",
    EntryStatus.approved: "state-approved",
    EntryStatus.rejected: "state-rejected",
    EntryStatus.failed: "state-failed",
    EntryStatus.checking: "state-processing",
    EntryStatus.withdrawn: "state-withdrawn",
}


@dataclass(frozen=True)
class NextStep:
    """The author's view of where an entry stands: the colour class, what comes next, and why
    the organizers refused it (rejected entries only)."""

    state_class: str
    text: str
    reason: str = ""


def moment(at: datetime) -> str:
    """A contest time as people read it, in Vietnam time: "1 August 2025 at 00:00"."""
    return _("%(date)s at %(time)s", date=format_date(at, "long"), time=format_time(at, "HH:mm"))


def next_step(entry: Entry, reason: str = "") -> NextStep:
    return NextStep(STATE_CLASSES[entry.status], _next_text(entry), reason)


def next_steps(session: Session, entries: list[Entry]) -> dict[int, NextStep]:
    """Each entry's next step by id, with the reasons of the rejected ones read in one query."""
    reasons = rejection_reasons(session, [e.id for e in entries if e.status is EntryStatus.rejected])
    return {e.id: next_step(e, reasons.get(e.id, "")) for e in entries}


def rejection_reasons(session: Session, entry_ids: list[int]) -> dict[int, str]:
    """The reason of each entry's latest rejection, by entry id, in the page's language when the
    organizer picked a template (its English text is in the event's details)."""
    if not entry_ids:
        return {}
    english = page_language() == "en"
    rows = session.execute(
        select(AuditEvent.subject_id, AuditEvent.reason, AuditEvent.details)
        .where(
            AuditEvent.subject_type == "entry",
            AuditEvent.action == "entry.rejected",
            AuditEvent.subject_id.in_(entry_ids),
        )
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    reasons: dict[int, str] = {}
    for entry_id, reason, details in rows:
        reason_en = (details or {}).get("reason_en") if english else None
        reasons.setdefault(entry_id, reason_en or reason)
    return reasons


def _next_text(entry: Entry) -> str:
    status = entry.status
    if status is EntryStatus.checking:
        return _(
            "We are checking the file you sent; this page updates by itself. "
            "The entry counts as submitted once the check passes."
        )
    if status in (EntryStatus.submitted, EntryStatus.processing):
        return _(
            "We are preparing your file for the web; this page updates by itself. "
            "Then the organizers review it."
        )
    if status is EntryStatus.pending_review:
        return (
            _("The organizers review it; once accepted, it appears in the gallery.")
            + " "
            + _voting(entry.contest)
        )
    if status is EntryStatus.approved:
        return _("It is in the gallery: share its page.") + " " + _voting(entry.contest)
    if status is EntryStatus.rejected and entry.contest.submission_open():
        return _(
            "It is not in the gallery. Fix it (new details or a new file) before %(closes)s: "
            "it then goes back to the organizers for review.",
            closes=moment(entry.contest.submission_closes_at),
        )
    if status is EntryStatus.rejected:
        return _(
            "It is not in the gallery and cannot be changed. If you think this is a mistake, "
            "contact the organizers: they can accept it again."
        )
    if status is EntryStatus.failed:
        return _failed(entry.contest)
    if status is EntryStatus.withdrawn:
        return _("You withdrew it: it takes no part in the contest and its files are deleted.")
    return _("It has not been sent yet.")


def _voting(contest: Contest) -> str:
    now = now_utc()
    if now < contest.voting_opens_at:
        return _(
            "Public voting runs from %(opens)s to %(closes)s.",
            opens=moment(contest.voting_opens_at),
            closes=moment(contest.voting_closes_at),
        )
    if now < contest.voting_closes_at:
        return _("Public voting is open until %(closes)s.", closes=moment(contest.voting_closes_at))
    if contest.results_at is not None and now < contest.results_at:
        return _("Voting has closed; the results come on %(date)s.", date=moment(contest.results_at))
    return _("Voting has closed.")


def _failed(contest: Contest) -> str:
    if contest.submission_open():
        return _(
            "Nothing of it is public. Fix the file, withdraw this entry and submit the new file "
            "before %(closes)s.",
            closes=moment(contest.submission_closes_at),
        )
    return _("Nothing of it is public. Submissions are closed: the file can no longer be sent again.")


def after_submit(contest: Contest) -> list[str]:
    """The steps that follow a submission, in order, with the contest's dates."""
    steps = [
        _("We prepare your file for the web: its thumbnail appears below in a moment."),
        _("The organizers review it. Once accepted, it appears in the gallery with its own page to share."),
        _voting(contest),
    ]
    if contest.results_at is not None and now_utc() < contest.voting_closes_at:
        steps.append(_("The results are announced on %(date)s.", date=moment(contest.results_at)))
    return steps
