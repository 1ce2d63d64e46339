"""What the organizers' list pages share: the contest chooser, list filters, back links.

Each feature's organizer pages (moderation, vote review, audit log...) build on these.
"""

from __future__ import annotations

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from contest.contests.models import Contest
from contest.entries.models import EntryStatus
from contest.urls import safe_next

# An entry's status as the organizers' lists name it.
STATUS_LABELS = {
    EntryStatus.draft: _l("Draft"),
    EntryStatus.submitted: _l("Submitted"),
    EntryStatus.processing: _l("Processing"),
    EntryStatus.pending_review: _l("Awaiting review"),
    EntryStatus.approved: _l("Approved"),
    EntryStatus.rejected: _l("Rejected"),
    EntryStatus.withdrawn: _l("Withdrawn"),
    EntryStatus.failed: _l("Failed"),
    EntryStatus.checking: _l("Checking the file"),
}


def strip(value):
    return value.strip() if isinstance(value, str) else value


def upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def contest_choices(contests) -> list[tuple[int, str]]:
    return [(contest.id, contest.title) for contest in contests]


class ListFilterForm(FlaskForm):
    """A read-only list filter in the query string (a GET form): which contest, which page."""

    class Meta:
        csrf = False

    contest = SelectField(_l("Contest"), coerce=int)
    page = IntegerField(
        default=1, validators=[Optional(), NumberRange(min=1, max=100_000)], widget=HiddenInput()
    )

    def __init__(self, *args, contests=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.contest.choices = contest_choices(contests)


def required_reason(message):
    return [
        DataRequired(message),
        Length(max=1000, message=_l("Please keep the reason under %(max)d characters.")),
    ]


class ActionForm(FlaskForm):
    """A POST button on an organizer list; ``next`` brings the organizer back to the same list."""

    next = HiddenField()


def chosen_contest(form, contests: list[Contest]) -> Contest | None:
    """The contest a list filter names; the newest one unless the query string chooses."""
    if "contest" not in request.args and contests:
        form.contest.data = contests[0].id
    return next((c for c in contests if c.id == form.contest.data), None)


def back_to(target: str | None, endpoint: str) -> str:
    """Where an action returns: the list the organizer came from, if it is on this site."""
    if target and safe_next(target) == target:
        return target
    return url_for(endpoint)


def current_list_url() -> str:
    return request.full_path if request.query_string else request.path
