"""The organizer's round form: names, kind, categories, dates (Vietnam time), quorum, source and
criteria. contest.jury.views turns it into a RoundSpec; the rules are contest.jury.rounds'."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    FloatField,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from contest.admin.forms import MultiCheckboxField, _moment, _strip
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
