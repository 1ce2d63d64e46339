"""Organizer forms: contest settings, category rules, list filters, moderation.

Phase dates are typed in Vietnam time and sizes in MB; contest.admin.services converts them.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from contest.admin.services import FORMATS_BY_KIND
from contest.contests.models import CategoryKind, EditsAfterApproval, VoteCountDisplay, VotePolicy
from contest.entries.flags import FLAG_LABELS

# What a datetime-local input sends (some browsers add seconds); the first is how it is shown.
VN_MINUTE_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
VN_TIME_HELP = _l("Vietnam time (UTC+7).")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _unix_lines(value):
    """Browsers send text areas with CRLF line ends; store plain newlines."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def _moment(label, required: bool = True) -> DateTimeLocalField:
    presence = InputRequired(message=_l("Please give a date and time.")) if required else Optional()
    return DateTimeLocalField(
        label, format=VN_MINUTE_FORMATS, validators=[presence], description=VN_TIME_HELP
    )


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes, one per choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ContestForm(FlaskForm):
    title_vi = StringField(
        _l("Title (Vietnamese)"), filters=[_strip], validators=[DataRequired(), Length(max=200)]
    )
    title_en = StringField(
        _l("Title (English)"), filters=[_strip], validators=[DataRequired(), Length(max=200)]
    )
    description_vi = TextAreaField(_l("Description (Vietnamese)"), filters=[_unix_lines])
    description_en = TextAreaField(_l("Description (English)"), filters=[_unix_lines])
    rules_vi = TextAreaField(_l("Rules (Vietnamese)"), filters=[_unix_lines])
    rules_en = TextAreaField(_l("Rules (English)"), filters=[_unix_lines])
    code_prefix = StringField(
        _l("Entry code prefix"),
        filters=[_upper],
        validators=[
            DataRequired(),
            Regexp(r"^[A-Z0-9]{2,12}$", message=_l("Use 2 to 12 capital letters or digits, without spaces.")),
        ],
        description=_l("Entry codes look like PREFIX-0001. It cannot change once entries exist."),
    )
    submission_opens_at = _moment(_l("Submission opens"))
    submission_closes_at = _moment(_l("Submission closes"))
    voting_opens_at = _moment(_l("Public voting opens"))
    voting_closes_at = _moment(_l("Public voting closes"))
    results_at = _moment(_l("Results announced"), required=False)
    min_entrant_age = IntegerField(
        _l("Minimum age of entrants"), validators=[InputRequired(), NumberRange(min=0, max=120)]
    )
    max_entries_per_person = IntegerField(
        _l("Maximum entries per person in the whole contest"),
        validators=[Optional(), NumberRange(min=1)],
        description=_l("Leave empty for no overall limit."),
    )
    is_published = BooleanField(_l("Published (shown on the public site)"))
    edits_after_approval = SelectField(
        _l("When an entrant changes an approved entry"),
        choices=[
            SelectChoice(
                EditsAfterApproval.review.value, _l("The change is saved and the entry goes back to review")
            ),
            SelectChoice(EditsAfterApproval.refused.value, _l("Approved entries can no longer be changed")),
        ],
    )
    vote_policy = SelectField(
        _l("How often an account may vote"),
        choices=[
            SelectChoice(VotePolicy.once_per_entry.value, _l("Once per entry for the whole contest")),
            SelectChoice(VotePolicy.once_per_entry_per_day.value, _l("Once per entry each day")),
            SelectChoice(
                VotePolicy.daily_quota.value, _l("A number of votes each day in all (one per entry)")
            ),
        ],
        description=_l("Days are counted in Vietnam time. It cannot change once votes have been cast."),
    )
    votes_per_day = IntegerField(
        _l("Votes per day"),
        validators=[Optional(), NumberRange(min=1, max=1000)],
        description=_l("Only for the daily number of votes."),
    )
    vote_counts = SelectField(
        _l("Vote counts"),
        choices=[
            SelectChoice(VoteCountDisplay.live.value, _l("Shown as votes come in")),
            SelectChoice(VoteCountDisplay.after_close.value, _l("Hidden until voting closes")),
        ],
    )
    # Who may vote besides the public (contest.voting.eligibility); all off by default.
    judges_may_vote = BooleanField(_l("Judges may vote"))
    organizers_may_vote = BooleanField(_l("Organizers may vote"))
    authors_may_vote_for_own = BooleanField(_l("Authors may vote for their own entries"))
    audience_prize_places = IntegerField(
        _l("Audience prize places per category"),
        validators=[InputRequired(), NumberRange(min=0, max=10)],
        description=_l("0: no audience prize."),
    )
    monthly_prize_winners = IntegerField(
        _l("Monthly vote prize winners per month"),
        validators=[InputRequired(), NumberRange(min=0, max=10)],
        description=_l("0: no monthly prize. An entry wins it at most once."),
    )
    submit = SubmitField(_l("Save contest"))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Not an inline validator: Optional() stops those on an empty field.
        if self.vote_policy.data == VotePolicy.daily_quota.value and not self.votes_per_day.data:
            self.votes_per_day.errors = [
                *self.votes_per_day.errors,
                _("Enter how many votes an account has each day."),
            ]
            return False
        return valid

    def validate_submission_closes_at(self, field) -> None:
        _check_window(self.submission_opens_at.data, field.data, _l("Submission must close after it opens."))

    def validate_voting_closes_at(self, field) -> None:
        _check_window(self.voting_opens_at.data, field.data, _l("Voting must close after it opens."))


def _check_window(opens, closes, message) -> None:
    if opens is not None and closes is not None and closes <= opens:
        raise ValidationError(message)


def _at_least_one(_form, field) -> None:
    if not field.data:
        raise ValidationError(_l("Choose at least one format."))


class CategoryForm(FlaskForm):
    """Rules shared by every kind of category; the subclasses add their own."""

    kind: CategoryKind = CategoryKind.photo

    name_vi = StringField(
        _l("Name (Vietnamese)"), filters=[_strip], validators=[DataRequired(), Length(max=120)]
    )
    name_en = StringField(
        _l("Name (English)"), filters=[_strip], validators=[DataRequired(), Length(max=120)]
    )
    description_vi = TextAreaField(_l("Description (Vietnamese)"), filters=[_unix_lines])
    description_en = TextAreaField(_l("Description (English)"), filters=[_unix_lines])
    allowed_formats = MultiCheckboxField(_l("Accepted file formats"), validators=[_at_least_one])
    min_long_edge_px = IntegerField(
        _l("Minimum long edge (pixels)"), validators=[Optional(), NumberRange(min=1, max=100_000)]
    )
    min_mb = DecimalField(
        _l("Minimum file size (MB)"),
        places=None,
        validators=[Optional(), NumberRange(min=0)],
        description=_l("1 MB = 1,000,000 bytes. Leave empty for no minimum."),
    )
    max_mb = DecimalField(
        _l("Maximum file size (MB)"),
        places=None,
        validators=[Optional(), NumberRange(min=0, max=1_000_000)],
        description=_l("Leave empty for no maximum (the site's upload limit still applies)."),
    )
    works_from = DateField(_l("Works made from"), validators=[Optional()])
    works_until = DateField(_l("Works made until"), validators=[Optional()])
    max_entries_per_person = IntegerField(
        _l("Maximum entries per person"),
        validators=[Optional(), NumberRange(min=1)],
        description=_l("Leave empty for no limit."),
    )
    submit = SubmitField(_l("Save category"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.allowed_formats.choices = [(f, f.upper()) for f in FORMATS_BY_KIND[self.kind]]

    def validate_max_mb(self, field) -> None:
        if self.min_mb.data is not None and field.data is not None and self.min_mb.data > field.data:
            raise ValidationError(_l("The maximum size must not be smaller than the minimum size."))

    def validate_works_until(self, field) -> None:
        if self.works_from.data and field.data and self.works_from.data > field.data:
            raise ValidationError(_l("The last date must not be before the first date."))


class PhotoSeriesCategoryForm(CategoryForm):
    kind = CategoryKind.photo_series

    min_items = IntegerField(
        _l("Minimum photos per series"), validators=[InputRequired(), NumberRange(min=1)]
    )
    max_items = IntegerField(
        _l("Maximum photos per series"), validators=[InputRequired(), NumberRange(min=1)]
    )

    def validate_max_items(self, field) -> None:
        if self.min_items.data is not None and field.data is not None and self.min_items.data > field.data:
            raise ValidationError(_l("The maximum must not be smaller than the minimum."))


class VideoCategoryForm(CategoryForm):
    kind = CategoryKind.video

    max_duration_s = IntegerField(
        _l("Maximum duration (seconds)"),
        validators=[Optional(), NumberRange(min=1, max=24 * 3600)],
        description=_l("For example 300 for 5 minutes. Leave empty for no limit."),
    )


CATEGORY_FORMS: dict[CategoryKind, type[CategoryForm]] = {
    CategoryKind.photo: CategoryForm,
    CategoryKind.photo_series: PhotoSeriesCategoryForm,
    CategoryKind.video: VideoCategoryForm,
}


class FlagFilterForm(FlaskForm):
    """The organizers' flag list: which contest, which kind of flag, which page (a GET form)."""

    class Meta:
        csrf = False  # a read-only filter in the query string

    contest = SelectField(_l("Contest"), coerce=int)
    kind = SelectField(_l("Kind of flag"), default="")
    page = IntegerField(
        default=1, validators=[Optional(), NumberRange(min=1, max=100_000)], widget=HiddenInput()
    )
    submit = SubmitField(_l("Show"))

    def __init__(self, *args, contests=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.contest.choices = [(contest.id, contest.title) for contest in contests]
        self.kind.choices = [
            ("", _("All kinds")),
            *((kind.value, label) for kind, label in FLAG_LABELS.items()),
        ]
