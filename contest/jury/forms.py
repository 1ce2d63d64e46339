"""The organizer's jury forms: a round (names, kind, categories, dates in Vietnam time, quorum,
source and criteria; contest.jury.admin_views turns it into a RoundSpec), the jury's judges and
conflicts, and the reasons and confirmations of the round's actions. The rules are the
services' (contest.jury.rounds, contest.jury.members)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    FieldList,
    FloatField,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from contest.admin.forms import MultiCheckboxField, _moment, _strip
from contest.auth.services import normalize_email
from contest.jury.models import RoundKind, RoundStatus, SourceRule

KIND_LABELS = {
    RoundKind.yes_no: _l("Yes / no"),
    RoundKind.score: _l("Score on criteria"),
    RoundKind.ranking: _l("Ranking"),
}
STATUS_LABELS = {
    RoundStatus.draft: _l("Draft"),
    RoundStatus.open: _l("Open"),
    RoundStatus.closed: _l("Closed"),
}
SOURCE_LABELS = {
    SourceRule.approved_entries: _l("All approved entries of its categories"),
    SourceRule.top_n: _l("The previous round's top N by score"),
    SourceRule.min_score: _l("The previous round's entries scoring at least the threshold"),
    SourceRule.min_yes: _l("The previous round's entries with at least K “yes”"),
}
CRITERIA_ROWS = 5


class CriterionForm(Form):
    """One criterion; a row left without names is not a criterion."""

    name_vi = StringField(_l("Criterion (Vietnamese)"), filters=[_strip], validators=[Length(max=120)])
    name_en = StringField(_l("Criterion (English)"), filters=[_strip], validators=[Length(max=120)])
    weight = FloatField(_l("Weight"), default=1, validators=[Optional(), NumberRange(min=0.01)])
    scale_min = FloatField(_l("Lowest score"), default=0, validators=[Optional()])
    scale_max = FloatField(_l("Highest score"), default=10, validators=[Optional()])
    scale_step = FloatField(_l("Step"), default=0.5, validators=[Optional(), NumberRange(min=0.01)])

    @property
    def is_blank(self) -> bool:
        return not (self.name_vi.data or self.name_en.data)


class RoundForm(FlaskForm):
    name_vi = StringField(
        _l("Name (Vietnamese)"), filters=[_strip], validators=[DataRequired(), Length(max=120)]
    )
    name_en = StringField(
        _l("Name (English)"), filters=[_strip], validators=[DataRequired(), Length(max=120)]
    )
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()])
    categories = MultiCheckboxField(_l("Categories"), coerce=int)
    opens_at = _moment(_l("Opens"))
    closes_at = _moment(_l("Closes"))
    quorum = IntegerField(
        _l("Judges per entry"),
        validators=[Optional(), NumberRange(min=1, max=100)],
        description=_l("Leave empty for a full panel: every judge judges every entry."),
    )
    source_rule = SelectField(
        _l("Entries"), choices=[SelectChoice(r.value, label) for r, label in SOURCE_LABELS.items()]
    )
    source_round = SelectField(_l("Previous round"), coerce=int, validate_choice=False)
    source_threshold = FloatField(
        _l("N, score or K"),
        validators=[Optional(), NumberRange(min=0)],
        description=_l("For a previous round's result."),
    )
    criteria = FieldList(FormField(CriterionForm), min_entries=CRITERIA_ROWS, max_entries=CRITERIA_ROWS)
    submit = SubmitField(_l("Create the round"))


def _email(label) -> EmailField:
    return EmailField(
        label,
        filters=[lambda value: normalize_email(value) if value else value],
        validators=[
            DataRequired(_l("Please enter an e-mail address.")),
            Length(max=254),
            Email(
                _l("Please enter a valid e-mail address, such as name@example.com."),
                check_deliverability=False,
            ),
        ],
    )


def _reason() -> TextAreaField:
    return TextAreaField(
        _l("Reason"),
        filters=[_strip],
        validators=[DataRequired(_l("Please give the reason.")), Length(max=1000)],
    )


class AddJudgeForm(FlaskForm):
    judge = SelectField(_l("Judge account"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Add to the jury"))


class InviteJudgeForm(FlaskForm):
    email = _email(_l("E-mail address"))
    full_name = StringField(
        _l("Full name"),
        filters=[_strip],
        validators=[DataRequired(_l("Please enter the judge's full name.")), Length(max=120)],
    )
    locale = SelectField(
        _l("Language of the e-mails"),
        choices=[SelectChoice("vi", "Tiếng Việt"), SelectChoice("en", "English")],
    )
    submit = SubmitField(_l("Invite"))


class ConflictForm(FlaskForm):
    judge = SelectField(_l("Judge"), coerce=int, validate_choice=False)
    entrant_email = _email(_l("Entrant's e-mail address"))
    reason = _reason()
    submit = SubmitField(_l("Declare the conflict"))


class ReasonForm(FlaskForm):
    """A reason the audit log keeps: reopening a round, disqualifying an entry."""

    reason = _reason()


class ConfirmForm(FlaskForm):
    """An action with nothing to type (open, close, remind, restore, remove, withdraw): CSRF only."""
