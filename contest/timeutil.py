"""Contest time: instants are stored in UTC, contest days and dates are Vietnam's."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def to_vn(moment: datetime) -> datetime:
    return moment.astimezone(VN_TZ)


def vn_today(moment: datetime | None = None) -> date:
    return to_vn(moment or datetime.now(UTC)).date()


def from_vn_local(naive_local: datetime) -> datetime:
    """A wall-clock time in Vietnam (as typed in a form) as a UTC instant."""
    return naive_local.replace(tzinfo=VN_TZ).astimezone(UTC)


def vn_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=VN_TZ).astimezone(UTC)
