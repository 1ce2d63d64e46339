"""Forms of the prize and award pages, and the words of their refusals."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from contest.admin.forms import VN_MINUTE_FORMATS, VN_TIME_HELP
from contest.results.prizes import PrizeKind


def _strip(value):
    return value.strip() if isinstance(value, str) else value


KIND_LABELS = {
    PrizeKind.jury: _l("Jury prize"),
    PrizeKind.audience: _l("Audience prize"),
    PrizeKind.monthly: _l("Monthly vote prize"),
}

# contest.results.awards.AwardRefused and publication.PublicationRefused codes, in words.
REFUSALS = {
    "frozen": _l("The results are frozen: unfreeze them first (before publication only)."),
    "slot_in_use": _l("Places of this prize are already given: its kind and category cannot change."),
    "count_below_given": _l("Places above this number are already given."),
    "unknown_category": _l("Choose a category of this contest."),
    "jury_needs_category": _l("A jury prize belongs to a category."),
    "no_such_place": _l("This prize has no such place."),
    "unknown_entry": _l("No approved entry of this contest has that code."),
    "wrong_category": _l("That entry is in another category."),
    "reason_needed": _l("Give a reason: this entry is not the one the results propose."),
    "already_has_jury_prize": _l("That entry already holds a jury prize of its category."),
    "time_passed": _l("Choose a time in the future."),
}
STEP_REFUSED = _l("The results cannot take that step now.")


class SlotForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()])
    category = SelectField(_l("Category"), choices=[])
    name_vi = StringField(
        _l("Name (Vietnamese)"), filters=[_strip], validators=[DataRequired(), Length(max=120)]
    )
    name_en = StringField(
        _l("Name (English)"), filters=[_strip], validators=[DataRequired(), Length(max=120)]
    )
    count = IntegerField(_l("How many"), default=1, validators=[InputRequired(), NumberRange(min=1, max=100)])
    position = IntegerField(
        _l("Order"), default=0, validators=[InputRequired(), NumberRange(min=0, max=1000)]
    )

    def offer(self, contest) -> SlotForm:
        self.category.choices = [SelectChoice("", _l("Whole contest"))] + [
            SelectChoice(str(c.id), c.name) for c in contest.categories
        ]
        return self


class AssignForm(FlaskForm):
    code = StringField(_l("Entry code"), filters=[_strip], validators=[DataRequired(), Length(max=24)])
    reason = TextAreaField(
        _l("Reason (needed when it is not the proposed entry)"),
        filters=[_strip],
        validators=[Optional(), Length(max=2000)],
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), filters=[_strip], validators=[DataRequired(), Length(max=2000)])


class ScheduleForm(FlaskForm):
    publish_at = DateTimeLocalField(
        _l("Publish at"),
        format=VN_MINUTE_FORMATS,
        validators=[InputRequired(message=_l("Please give a date and time."))],
        description=VN_TIME_HELP,
    )


class ConfirmForm(FlaskForm):
    """An action with nothing to type: CSRF only."""
