"""The organizer's tally forms: a round's tally settings, a contest's place for public votes, and
the raw-score file's download (a POST: the export is an audit event)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional, ValidationError

from contest.results.models import AudienceMode
from contest.results.sheet import RankingMethod, TallySettings, TieBreak

TIE_RULES = 3  # the rules an organizer orders; the code always comes last
RULE_LABELS = {
    TieBreak.median: _l("the higher median"),
    TieBreak.firsts: _l("more first places (top marks, yes)"),
    TieBreak.lowest_spread: _l("the judges agree more (smaller spread)"),
    TieBreak.code: _l("the entry's code"),
}
METHOD_LABELS = {RankingMethod.borda: _l("Borda count"), RankingMethod.schulze: _l("Schulze method")}
MODE_LABELS = {
    AudienceMode.separate: _l("A separate audience prize"),
    AudienceMode.share: _l("A share of the final round's figure"),
}


def _rule_choices() -> list[tuple[str, str]]:
    rules = [r for r in TieBreak if r is not TieBreak.code]
    return [SelectChoice("", _l("(none)"))] + [SelectChoice(r.value, RULE_LABELS[r]) for r in rules]


class TallySettingsForm(FlaskForm):
    normalise = BooleanField(_l("Normalise each judge's scores (z-score within the round)"))
    trimmed = BooleanField(_l("Trimmed mean (drop the highest and lowest score from five judges)"))
    ranking_method = SelectField(
        _l("Ranking method"), choices=[SelectChoice(m.value, label) for m, label in METHOD_LABELS.items()]
    )
    tie_1 = SelectField(_l("Ties: first rule"), choices=_rule_choices, validate_choice=True)
    tie_2 = SelectField(_l("then"), choices=_rule_choices, validate_choice=True)
    tie_3 = SelectField(_l("then"), choices=_rule_choices, validate_choice=True)
    submit = SubmitField(_l("Save the tally settings"))

    def rules(self) -> tuple[TieBreak, ...]:
        chosen = [f.data for f in (self.tie_1, self.tie_2, self.tie_3) if f.data]
        return (*(TieBreak(value) for value in chosen), TieBreak.code)

    def validate_tie_3(self, field) -> None:
        chosen = [f.data for f in (self.tie_1, self.tie_2, self.tie_3) if f.data]
        if len(set(chosen)) != len(chosen):
            raise ValidationError(_l("Each tie rule can be chosen once."))

    def settings(self) -> TallySettings:
        return TallySettings(
            normalise=bool(self.normalise.data),
            trimmed=bool(self.trimmed.data),
            ranking_method=RankingMethod(self.ranking_method.data),
            tie_break=self.rules(),
        )

    def fill(self, settings: TallySettings) -> None:
        self.normalise.data, self.trimmed.data = settings.normalise, settings.trimmed
        self.ranking_method.data = settings.ranking_method.value
        rules = [r.value for r in settings.tie_break if r is not TieBreak.code]
        for field, value in zip((self.tie_1, self.tie_2, self.tie_3), [*rules, "", "", ""], strict=False):
            field.data = value


class AudienceShareForm(FlaskForm):
    mode = SelectField(
        _l("Public votes in the result"),
        choices=[SelectChoice(m.value, label) for m, label in MODE_LABELS.items()],
    )
    percent = IntegerField(
        _l("Share of the votes (%)"),
        default=20,
        validators=[
            Optional(),
            NumberRange(min=1, max=50, message=_l("Choose a share from 1 to 50 per cent.")),
        ],
    )
    submit = SubmitField(_l("Save"))

    def validate_percent(self, field) -> None:
        if self.mode.data == AudienceMode.share.value and not field.data:
            raise ValidationError(_l("Choose a share from 1 to 50 per cent."))


class DownloadForm(FlaskForm):
    submit = SubmitField(_l("Download the raw-score file (CSV)"))
