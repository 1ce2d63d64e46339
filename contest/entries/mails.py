"""What the entrant is told by e-mail about an entry, in their language, once per event.

The key of each message names its event: the submission (one per entry), the end of a
processing job (one per job: an entry sent again is processed again) and an organizer's
decision (one per audited decision: rejected, reopened and rejected again is told twice).
"""

from __future__ import annotations

from flask_babel import force_locale

from contest.audit.models import AuditEvent
from contest.entries.failures import failure_message
from contest.entries.models import Entry, EntryStatus
from contest.mail.services import mail_link, mail_locale, tell_user


def tell_received(session, entry: Entry) -> None:
    tell_user(
        session, entry.author, "entry_received", event_key=f"entry.received:{entry.id}", **_about(entry)
    )


def tell_processed(session, entry: Entry, job_id: int) -> None:
    """After a processing job: ready (waiting for review) or failed, with the reason."""
    if entry.status is EntryStatus.pending_review:
        tell_user(
            session, entry.author, "entry_ready", event_key=f"entry.ready:job:{job_id}", **_about(entry)
        )
    elif entry.status is EntryStatus.failed:
        with force_locale(mail_locale(entry.author)):
            reason = str(failure_message(entry.failure_code, entry.failure_params))
        key = f"entry.failed:job:{job_id}"
        tell_user(session, entry.author, "entry_failed", event_key=key, reason=reason, **_about(entry))


def tell_decision(session, entry: Entry, decision: AuditEvent) -> None:
    """The organizers' decision recorded as ``decision``: approved, or rejected with its reason."""
    key = f"entry.decision:{decision.id}"
    if entry.status is EntryStatus.approved:
        link = mail_link("gallery.entry", code=entry.code)
        tell_user(session, entry.author, "entry_approved", event_key=key, entry=entry, link=link)
    elif entry.status is EntryStatus.rejected:
        # A template's reason has both languages (the English one in the details).
        english = (decision.details or {}).get("reason_en")
        reason = english if english and mail_locale(entry.author) == "en" else decision.reason
        tell_user(session, entry.author, "entry_rejected", event_key=key, reason=reason, **_about(entry))


def _about(entry: Entry) -> dict:
    return {"entry": entry, "link": mail_link("entries.mine")}
