"""An entrant's change to the text of an entry: what it does to an approved or rejected entry, and its audit.

An approved entry cannot change silently: by the contest's ``edits_after_approval``, the
change sends it back to review (out of the gallery, its renditions taken down by
contest.media.publication, until an organizer approves it again) or is refused. A rejected
entry's author fixes it while submission is open: the change sends it back to review. Every
change is an audit event with the old and new values of the fields that changed.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.auth.models import User
from contest.contests.models import EditsAfterApproval, Place
from contest.entries.models import Entry, EntryStatus

EDITED_FIELDS = ("title", "description", "title_en", "description_en", "place_id", "taken_on")


class EditOutcome(enum.Enum):
    unchanged = "unchanged"
    saved = "saved"
    back_to_review = "back_to_review"
    resubmitted = "resubmitted"  # a rejected entry, fixed, goes back to the organizers


class EditsClosed(ValueError):
    """The entry is approved and its contest refuses changes after approval."""


def edits_closed(entry: Entry) -> bool:
    return entry.status is EntryStatus.approved and (
        entry.contest.edits_after_approval is EditsAfterApproval.refused
    )


def edit_sends_back_to_review(entry: Entry) -> bool:
    if entry.status is EntryStatus.rejected:
        return True
    return entry.status is EntryStatus.approved and (
        entry.contest.edits_after_approval is EditsAfterApproval.review
    )


def update_entry(
    session: Session,
    entry: Entry,
    author: User,
    *,
    title: str,
    description: str,
    place_id: int,
    taken_on: date,
    title_en: str | None = None,
    description_en: str | None = None,
) -> EditOutcome:
    """Apply the entrant's text; an approved entry goes back to review (or EditsClosed).

    The English title and description are kept as they are when not given (None).
    """
    if edits_closed(entry):
        raise EditsClosed(entry.code)
    wanted = {
        "title": title,
        "description": description,
        "title_en": entry.title_en if title_en is None else title_en,
        "description_en": entry.description_en if description_en is None else description_en,
        "place_id": place_id,
        "taken_on": taken_on,
    }
    changes = _changes(session, entry, wanted)
    if not changes:
        return EditOutcome.unchanged
    before, back = entry.status, edit_sends_back_to_review(entry)
    for name in EDITED_FIELDS:
        setattr(entry, name, wanted[name])
    if back:
        entry.transition(EntryStatus.pending_review)
    record(
        session,
        actor_id=author.id,
        action="entry.edited",
        subject_type="entry",
        subject_id=entry.id,
        contest_id=entry.contest_id,
        details={"code": entry.code, "changes": changes, "from": before.value, "to": entry.status.value},
    )
    session.flush()
    if before is EntryStatus.rejected:
        return EditOutcome.resubmitted
    return EditOutcome.back_to_review if back else EditOutcome.saved


def _changes(session: Session, entry: Entry, wanted: dict) -> dict[str, list]:
    """The fields that change, with their old and new values (and the places' names)."""
    changes = {
        name: [_plain(getattr(entry, name)), _plain(value)]
        for name, value in wanted.items()
        if getattr(entry, name) != value
    }
    if "place_id" in changes:  # as the organizers read them in the audit log
        changes["place"] = [entry.place.name_vi, session.get(Place, wanted["place_id"]).name_vi]
    return changes


def _plain(value: object) -> object:
    """A value as the audit log's JSON keeps it (dates as ISO text)."""
    return value.isoformat() if isinstance(value, date) else value
