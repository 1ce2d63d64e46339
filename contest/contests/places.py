"""Places of an edition: added, renamed or retired by organizers (entries keep their place)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.contests.models import Contest, Place
from contest.contests.settings import SettingsRejected

PLACE_FIELDS = ("code", "name_vi", "name_en", "retired")


def add_place(session: Session, contest: Contest, values: Mapping[str, Any], *, actor_id: int) -> Place:
    _check_code(session, contest.id, values["code"], None)
    last = session.scalar(select(func.max(Place.position)).where(Place.contest_id == contest.id)) or 0
    place = Place(contest_id=contest.id, position=last + 1, **{f: values[f] for f in PLACE_FIELDS})
    session.add(place)
    session.flush()
    _audit(session, "contest.place_added", place, actor_id, {f: values[f] for f in PLACE_FIELDS})
    return place


def update_place(session: Session, place: Place, values: Mapping[str, Any], *, actor_id: int) -> None:
    _check_code(session, place.contest_id, values["code"], place.id)
    changes = {f: [getattr(place, f), values[f]] for f in PLACE_FIELDS if getattr(place, f) != values[f]}
    for name, (_old, new) in changes.items():
        setattr(place, name, new)
    session.flush()
    if changes:
        _audit(session, "contest.place_changed", place, actor_id, changes)


def _check_code(session: Session, contest_id: int, code: str, place_id: int | None) -> None:
    taken = session.scalar(
        select(Place.id).where(
            Place.contest_id == contest_id, Place.code == code, Place.id != (place_id or 0)
        )
    )
    if taken is not None:
        raise SettingsRejected("code", _l("Another place of this contest already has this code."))


def _audit(session: Session, action: str, place: Place, actor_id: int, details: dict) -> None:
    record(
        session,
        actor_id=actor_id,
        action=action,
        subject_type="place",
        subject_id=place.id,
        contest_id=place.contest_id,
        details=details,
    )
