"""The rules that find suspicious votes, their thresholds, and what one rule's finding is.

Four patterns that fake-account rings leave in the votes table (valid votes of one
contest only; a voided vote leaves every finding):

* ``network_burst``: at least 5 votes for one entry from one network (``net_hash``)
  within 30 minutes, by accounts younger than 7 days;
* ``entry_burst``: an entry receiving at least 20 votes within 10 minutes, most of them
  from accounts younger than 2 days or cast without a page view or faster than a person
  (``since_view_ms`` missing or under 2 s); the cluster holds those suspicious votes;
* ``lookalike_names``: at least 4 voters of one entry whose names reduce to the same
  skeleton ("Nguyễn Văn An 01", "nguyen van an2") or whose e-mail local parts differ only
  by digits, with accounts created within 60 minutes of each other;
* ``young_cohort``: at least 8 votes for one entry within 30 minutes, from any networks, by
  accounts younger than 7 days, created within 24 hours of each other, that voted for
  nothing else in the contest (a ring spread over many networks). An account made less
  than an hour before its vote is left out: that is how a real visitor from a shared link
  votes, while a ring's accounts are made ahead, in a batch.

A finding (``Cluster``) is the list of votes one rule met, named by a stable id (a hash of
its kind and vote ids). Findings that concern one ring are one case (cases.py).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from flask_babel import (
    format_date,
    format_datetime,
    format_time,
    format_timedelta,
    ngettext,
    to_user_timezone,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

NETWORK_BURST_MIN_VOTES = 5
NETWORK_BURST_WINDOW = timedelta(minutes=30)
NETWORK_BURST_MAX_ACCOUNT_AGE_S = 7 * 24 * 3600

ENTRY_BURST_MIN_VOTES = 20
ENTRY_BURST_WINDOW = timedelta(minutes=10)
ENTRY_BURST_MAX_ACCOUNT_AGE_S = 2 * 24 * 3600
ENTRY_BURST_MIN_SINCE_VIEW_MS = 2000  # faster than this from page to vote is not a person reading

LOOKALIKE_MIN_VOTERS = 4
LOOKALIKE_CREATED_WITHIN = timedelta(minutes=60)
# Shorter skeletons or e-mail stems match too many unrelated people.
LOOKALIKE_MIN_KEY_LENGTH = 4

COHORT_MIN_VOTES = 8
COHORT_WINDOW = timedelta(minutes=30)
COHORT_MAX_ACCOUNT_AGE_S = 7 * 24 * 3600
COHORT_MIN_ACCOUNT_AGE_S = 3600
COHORT_CREATED_WITHIN = timedelta(hours=24)


class ClusterKind(enum.StrEnum):
    network_burst = "network_burst"
    entry_burst = "entry_burst"
    lookalike_names = "lookalike_names"
    young_cohort = "young_cohort"


CLUSTER_LABELS = {
    ClusterKind.network_burst: _l("Young accounts from one network"),
    ClusterKind.entry_burst: _l("Burst of votes"),
    ClusterKind.lookalike_names: _l("Look-alike accounts"),
    ClusterKind.young_cohort: _l("Young accounts registered together"),
}

# The rules that mark a ring's votes, voided by default. A burst alone marks nobody: real
# visitors following a shared link vote hastily too; the organizer selects such votes.
VOIDING_KINDS = frozenset({ClusterKind.network_burst, ClusterKind.lookalike_names, ClusterKind.young_cohort})


@dataclass(frozen=True)
class Cluster:
    kind: ClusterKind
    entry_id: int
    vote_ids: tuple[int, ...]  # sorted
    voter_ids: tuple[int, ...]  # sorted
    first_at: datetime
    last_at: datetime
    # What the summary line says: counts, minutes, the network's hash...
    details: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @cached_property  # computed once: lists sort and search by it
    def id(self) -> str:
        return cluster_id(self.kind, self.vote_ids)

    @property
    def label(self) -> str:
        return str(CLUSTER_LABELS[self.kind])

    @property
    def score(self) -> int:
        """How many votes the cluster would take back."""
        return len(self.vote_ids)

    def summary(self) -> str:
        """What was seen, in the reader's language (needs a request or application context)."""
        d = self.details
        if self.kind is ClusterKind.network_burst:
            return ngettext(
                "%(votes)d votes within %(num)d minute from one network, by accounts younger than %(days)d days.",
                "%(votes)d votes within %(num)d minutes from one network, by accounts younger than %(days)d days.",
                d["minutes"],
                votes=len(self.vote_ids),
                days=NETWORK_BURST_MAX_ACCOUNT_AGE_S // 86400,
            )
        if self.kind is ClusterKind.entry_burst:
            return ngettext(
                "%(suspicious)d of %(votes)d votes within %(num)d minute came from accounts younger than %(days)d days or without a page view.",
                "%(suspicious)d of %(votes)d votes within %(num)d minutes came from accounts younger than %(days)d days or without a page view.",
                d["minutes"],
                suspicious=len(self.vote_ids),
                votes=d["votes_in_burst"],
                days=ENTRY_BURST_MAX_ACCOUNT_AGE_S // 86400,
            )
        if self.kind is ClusterKind.young_cohort:
            return ngettext(
                "%(votes)d votes within %(num)d minute, from %(networks)d networks, by accounts younger than %(days)d days, created within %(hours)d hours of each other, that voted for nothing else.",
                "%(votes)d votes within %(num)d minutes, from %(networks)d networks, by accounts younger than %(days)d days, created within %(hours)d hours of each other, that voted for nothing else.",
                d["minutes"],
                votes=len(self.vote_ids),
                networks=d["networks"],
                days=COHORT_MAX_ACCOUNT_AGE_S // 86400,
                hours=d["created_within_hours"],
            )
        return ngettext(
            "%(voters)d accounts with look-alike names or e-mail addresses, created within %(num)d minute.",
            "%(voters)d accounts with look-alike names or e-mail addresses, created within %(num)d minutes.",
            d["created_within_minutes"],
            voters=len(self.voter_ids),
        )


def window(first: datetime, last: datetime) -> str:
    """The real time span of some votes, in the reader's language and time zone."""
    span = format_timedelta(last - first, threshold=1)
    if to_user_timezone(first).date() == to_user_timezone(last).date():
        return _(
            "%(day)s, %(start)s to %(end)s (%(span)s)",
            day=format_date(first, "medium"),
            start=format_time(first, "short"),
            end=format_time(last, "short"),
            span=span,
        )
    return _(
        "%(start)s to %(end)s (%(span)s)",
        start=format_datetime(first, "short"),
        end=format_datetime(last, "short"),
        span=span,
    )


def cluster_id(kind: ClusterKind | str, vote_ids: Iterable[int]) -> str:
    """16 hex digits naming exactly this set of votes of this kind."""
    text = f"{kind}:{','.join(str(i) for i in sorted(vote_ids))}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]
