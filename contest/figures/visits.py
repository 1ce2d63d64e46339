"""Counting the visits and shares of entry pages by source, without cookies or personal data.

The entry page is cached whole, so its visits are counted by a beacon its script sends
(static/js/visit.js): the share parameter the share buttons put in the link (``?src=``) or,
failing one, the host of the referring page. Only the source is kept, in a daily counter.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contest.entries.models import Entry, EntryStatus
from contest.figures.models import PageVisit, VisitKind, VisitSource

# Hosts of the referring page (and their subdomains) that name a source.
SOURCE_HOSTS = {
    "facebook.com": VisitSource.facebook,
    "fb.com": VisitSource.facebook,
    "fb.me": VisitSource.facebook,
    "messenger.com": VisitSource.facebook,
    "zalo.me": VisitSource.zalo,
    "zaloapp.com": VisitSource.zalo,
    "zalo.vn": VisitSource.zalo,
}
SHARE_PARAMETERS = {"facebook": VisitSource.facebook, "zalo": VisitSource.zalo}


def visit_source(src: str, referrer: str, own_host: str) -> VisitSource:
    """Where a visit came from: the share parameter, else the referrer's host.

    No referrer, or a page of this site, is a direct visit.
    """
    if src in SHARE_PARAMETERS:
        return SHARE_PARAMETERS[src]
    host = (urlsplit(referrer).hostname or "") if referrer else ""
    if not host or host == own_host:
        return VisitSource.direct
    for known, source in SOURCE_HOSTS.items():
        if host == known or host.endswith("." + known):
            return source
    return VisitSource.other


def share_source(channel: str) -> VisitSource:
    """The share button pressed: Facebook, Zalo, or the link copied (other)."""
    return SHARE_PARAMETERS.get(channel, VisitSource.other)


def public_entry_id(session: Session, code: str) -> int | None:
    return session.scalar(select(Entry.id).where(Entry.code == code, Entry.status == EntryStatus.approved))


def count(session: Session, entry_id: int, day: date, kind: VisitKind, source: VisitSource) -> None:
    """One more on the day's counter: a single INSERT ... ON CONFLICT DO UPDATE."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(PageVisit).values(entry_id=entry_id, day=day, kind=kind, source=source, count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["entry_id", "day", "kind", "source"], set_={"count": PageVisit.count + 1}
    )
    session.execute(stmt)
