"""The figures of an edition, each a table (what the page and the CSV show) and a chart of it.

A figure's rows are plain values (numbers, text, dates); its chart is the data Chart.js draws
(static/js/figures.js), read from the same rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from babel import Locale
from flask_babel import format_percent, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from contest.contests.models import Contest
from contest.entries import gps
from contest.figures import queries
from contest.figures.models import VisitKind, VisitSource
from contest.processing.models import JobState

TOP_ENTRIES = 20
READY_WINDOW = timedelta(days=7)
FOREIGN_HOME = "VN"
NOTHING = "\u2013"  # an en dash: no value


@dataclass
class Figure:
    key: str
    title: str
    columns: list[str]
    rows: list[list]
    chart: dict
    summary: list[tuple[str, object]] = field(default_factory=list)  # (label, value) shown above


def _dataset(label, data, **extra) -> dict:
    return {"label": str(label), "data": data, **extra}


def _entries_by_day(session: Session, contest: Contest):
    """The days entries came in, the contest's categories, and each category's entries per day."""
    categories = list(contest.categories)
    found = queries.entries_per_day(session, contest.id)
    days = sorted({day for day, _, _ in found})
    counts = {(day, category_id): n for day, category_id, n in found}
    return days, categories, [[counts.get((day, c.id), 0) for day in days] for c in categories]


def entries_per_day(session: Session, contest: Contest, by_day: tuple | None = None) -> Figure:
    days, categories, per_category = by_day or _entries_by_day(session, contest)
    totals = [sum(column) for column in zip(*per_category, strict=True)] if categories else []
    cumulative = list(accumulate(totals))
    rows = [
        [day, *(series[i] for series in per_category), totals[i], cumulative[i]] for i, day in enumerate(days)
    ]
    datasets = [
        _dataset(c.name, series, stack="day") for c, series in zip(categories, per_category, strict=True)
    ]
    datasets.append(_dataset(_l("Cumulative"), cumulative, type="line", yAxisID="y1"))
    return Figure(
        "entries-per-day",
        str(_l("Entries per day by category")),
        [str(_l("Day")), *(c.name for c in categories), str(_l("Total")), str(_l("Cumulative"))],
        rows,
        {
            "type": "bar",
            "labels": [d.isoformat() for d in days],
            "datasets": datasets,
            "stacked": True,
            "y1": True,
        },
    )


def entries_cumulative(session: Session, contest: Contest, by_day: tuple | None = None) -> Figure:
    """Each category's entries received up to each day (and all of them), as lines."""
    days, categories, per_category = by_day or _entries_by_day(session, contest)
    series = [list(accumulate(counts)) for counts in per_category]
    totals = [sum(column) for column in zip(*series, strict=True)] if categories else []
    rows = [[day, *(s[i] for s in series), totals[i]] for i, day in enumerate(days)]
    datasets = [_dataset(c.name, s, type="line") for c, s in zip(categories, series, strict=True)]
    datasets.append(_dataset(_l("Total"), totals, type="line"))
    return Figure(
        "entries-cumulative",
        str(_l("Entries by category, cumulative")),
        [str(_l("Day")), *(c.name for c in categories), str(_l("Total"))],
        rows,
        {"type": "line", "labels": [d.isoformat() for d in days], "datasets": datasets},
    )


def country_name(code: str) -> str:
    return Locale.parse(str(get_locale())).territories.get(code, code)


def entrants_by_country(session: Session, contest: Contest) -> Figure:
    found = queries.entrants_by_country(session, contest.id)
    everyone = sum(entrants for _, entrants, _ in found)
    foreign = sum(entrants for code, entrants, _ in found if code != FOREIGN_HOME)
    rows = [[country_name(code), code, entrants, entries] for code, entrants, entries in found]
    return Figure(
        "entrants-by-country",
        str(_l("Entrants by country")),
        [str(_l("Country")), str(_l("Code")), str(_l("Entrants")), str(_l("Entries"))],
        rows,
        {
            "type": "bar",
            "horizontal": True,
            "labels": [row[0] for row in rows],
            "datasets": [_dataset(_l("Entrants"), [row[2] for row in rows])],
        },
        [
            (str(_l("Entrants")), everyone),
            (str(_l("From abroad")), foreign),
            (str(_l("Foreign share")), share(foreign, everyone)),
        ],
    )


def share(part: int, whole: int) -> str:
    """A percentage with one decimal in the reader's locale (12.5%, 12,5%); a dash of nothing."""
    return format_percent(part / whole, "#,##0.0%") if whole else NOTHING


def entries_by_place(session: Session, contest: Contest) -> Figure:
    rows = [[place.name, n] for place, n in queries.entries_by_place(session, contest.id)]
    return Figure(
        "entries-by-place",
        str(_l("Entries by place in Nghe An")),
        [str(_l("Place")), str(_l("Entries"))],
        rows,
        {
            "type": "bar",
            "horizontal": True,
            "labels": [row[0] for row in rows],
            "datasets": [_dataset(_l("Entries"), [row[1] for row in rows])],
        },
    )


def votes_per_day(session: Session, contest: Contest) -> Figure:
    found = queries.votes_per_day(session, contest.id)
    rows = [[day, cast, voided, share(voided, cast)] for day, cast, voided in found]
    cast_total, voided_total = sum(r[1] for r in rows), sum(r[2] for r in rows)
    return Figure(
        "votes-per-day",
        str(_l("Votes per day")),
        [str(_l("Day")), str(_l("Votes")), str(_l("Voided")), str(_l("Share voided"))],
        rows,
        {
            "type": "bar",
            "stacked": True,
            "labels": [row[0].isoformat() for row in rows],
            "datasets": [
                _dataset(_l("Valid"), [row[1] - row[2] for row in rows], stack="day"),
                _dataset(_l("Voided"), [row[2] for row in rows], stack="day"),
            ],
        },
        [
            (str(_l("Votes")), cast_total),
            (str(_l("Voided")), voided_total),
            (str(_l("Share voided")), share(voided_total, cast_total)),
        ],
    )


def accounts_per_day(session: Session, contest: Contest) -> Figure:
    found = queries.accounts_per_day(session, *queries.accounts_window(contest))
    cumulative = list(accumulate(n for _, n in found))
    rows = [[day, n, cumulative[i]] for i, (day, n) in enumerate(found)]
    return Figure(
        "accounts-per-day",
        str(_l("New accounts per day")),
        [str(_l("Day")), str(_l("Accounts")), str(_l("Cumulative"))],
        rows,
        {
            "type": "bar",
            "y1": True,
            "labels": [row[0].isoformat() for row in rows],
            "datasets": [
                _dataset(_l("Accounts"), [row[1] for row in rows]),
                _dataset(_l("Cumulative"), cumulative, type="line", yAxisID="y1"),
            ],
        },
    )


def top_entries(session: Session, contest: Contest) -> Figure:
    entries = queries.top_entries(session, contest.id, TOP_ENTRIES)
    rows = [[e.code, e.shown_title.text, e.category.name, e.vote_count] for e in entries]
    return Figure(
        "top-entries",
        str(_l("Top entries by votes")),
        [str(_l("Code")), str(_l("Title")), str(_l("Category")), str(_l("Votes"))],
        rows,
        {
            "type": "bar",
            "horizontal": True,
            "labels": [row[0] for row in rows],
            "datasets": [_dataset(_l("Votes"), [row[3] for row in rows])],
        },
    )


SOURCE_LABELS = {
    VisitSource.facebook: "Facebook",
    VisitSource.zalo: "Zalo",
    VisitSource.direct: _l("Direct or from this site"),
    VisitSource.other: _l("Other sites (shares: link copied)"),
}


def visits_by_source(session: Session, contest: Contest) -> Figure:
    found = queries.visits_by_source(session, contest.id)
    rows = [
        [
            str(SOURCE_LABELS[source]),
            found.get((VisitKind.visit, source), 0),
            found.get((VisitKind.share, source), 0),
        ]
        for source in VisitSource
    ]
    return Figure(
        "visits-by-source",
        str(_l("Visits and shares of entry pages by source")),
        [str(_l("Source")), str(_l("Visits")), str(_l("Shares"))],
        rows,
        {
            "type": "bar",
            "labels": [row[0] for row in rows],
            "datasets": [
                _dataset(_l("Visits"), [row[1] for row in rows]),
                _dataset(_l("Shares"), [row[2] for row in rows]),
            ],
        },
    )


JOB_STATE_LABELS = {
    JobState.queued: _l("Waiting"),
    JobState.retrying: _l("Waiting to retry"),
    JobState.running: _l("Running"),
    JobState.failed: _l("Failed"),
    JobState.succeeded: _l("Done"),
}


def processing_queue(session: Session, contest: Contest, now: datetime | None = None) -> Figure:
    now = now or datetime.now(UTC)
    states = queries.jobs_by_state(session, contest.id)
    rows = [[str(label), states.get(state, 0)] for state, label in JOB_STATE_LABELS.items()]
    times = queries.ready_times_s(session, contest.id, now - READY_WINDOW)
    oldest = queries.oldest_waiting(session, contest.id)
    return Figure(
        "processing-queue",
        str(_l("Processing queue")),
        [str(_l("State")), str(_l("Jobs"))],
        rows,
        {
            "type": "bar",
            "labels": [row[0] for row in rows],
            "datasets": [_dataset(_l("Jobs"), [row[1] for row in rows])],
        },
        [
            (str(_l("Time to ready, median (last 7 days)")), _duration(percentile(times, 0.5))),
            (str(_l("Time to ready, 9 in 10 within (last 7 days)")), _duration(percentile(times, 0.9))),
            (str(_l("Longest wait now")), _duration((now - oldest).total_seconds() if oldest else None)),
        ],
    )


def percentile(ordered: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of sorted values (None of none)."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return NOTHING
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def gps_check(session: Session, contest: Contest) -> Figure:
    """Entries whose files' GPS position lies inside Nghệ An, outside it, or is absent."""
    counts = gps.gps_counts(session, contest.id)
    rows = [
        [str(_l("GPS inside Nghệ An")), counts.inside],
        [str(_l("GPS outside Nghệ An")), counts.outside],
        [str(_l("No GPS position")), counts.absent],
        [str(_l("Not checked yet")), counts.unchecked],
    ]
    return Figure(
        "gps-check",
        str(_l("Shot in Nghệ An: the files' GPS positions")),
        [str(_l("GPS position")), str(_l("Entries"))],
        rows if counts.total else [],
        {
            "type": "bar",
            "labels": [row[0] for row in rows],
            "datasets": [_dataset(_l("Entries"), [row[1] for row in rows])],
        },
        [
            (
                str(_l("Share outside, of those with a position")),
                share(counts.outside, counts.inside + counts.outside),
            )
        ],
    )


FIGURES = {
    "entries-per-day": entries_per_day,
    "entries-cumulative": entries_cumulative,
    "entrants-by-country": entrants_by_country,
    "entries-by-place": entries_by_place,
    "votes-per-day": votes_per_day,
    "accounts-per-day": accounts_per_day,
    "top-entries": top_entries,
    "visits-by-source": visits_by_source,
    "processing-queue": processing_queue,
    "gps-check": gps_check,
}


def all_figures(session: Session, contest: Contest) -> list[Figure]:
    """Every figure; the two of entries per day from one query."""
    by_day = _entries_by_day(session, contest)
    shared = {entries_per_day, entries_cumulative}
    return [
        build(session, contest, by_day) if build in shared else build(session, contest)
        for build in FIGURES.values()
    ]
