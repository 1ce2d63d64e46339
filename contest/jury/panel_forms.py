"""The judge's forms: a judgement (one field per criterion of the round, a verdict, a comment),
a recusal and a ranking's order. The scale is checked by contest.jury.scores (and the database)."""

from __future__ import annotations

import math

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from contest.jury.models import Round, RoundKind
from contest.jury.scores import Judgement

COMMENT_MAX = 4000


class ScoreField(FloatField):
    """A criterion's value; anything but a number is refused in the judge's language."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
            if self.data is not None and not math.isfinite(self.data):
                raise ValueError("not finite")
        except ValueError:
            self.data = None
            raise ValueError(_l("A score must be a number.")) from None


class JudgementForm(FlaskForm):
    verdict = RadioField(
        _l("Keep this entry?"),
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
        validators=[Optional()],
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=COMMENT_MAX)])

    def criterion_fields(self, round_: Round) -> list[tuple]:
        """(criterion, its field) in the round's order."""
        return [(c, self[f"c{c.id}"]) for c in round_.criteria]

    def judgement(self, round_: Round) -> Judgement:
        """What was typed; a blank criterion is left as it was (autosave sends partial forms)."""
        values = {c.id: f.data for c, f in self.criterion_fields(round_) if f.data is not None}
        verdict = {"yes": True, "no": False}.get(self.verdict.data or "")
        return Judgement(values=values, verdict=verdict, comment=self.comment.data)


def judgement_form(round_: Round, **kwargs) -> JudgementForm:
    """The judgement form of ``round_``: a field ``c<id>`` per criterion of a score round."""
    fields = {}
    if round_.kind is RoundKind.score:
        fields = {f"c{c.id}": ScoreField(c.name, validators=[Optional()]) for c in round_.criteria}
    form_class = type("RoundJudgementForm", (JudgementForm,), fields)
    return form_class(**kwargs)


class RecusalForm(FlaskForm):
    reason = TextAreaField(
        _l("Why do you stand aside from this entry?"), validators=[Length(max=COMMENT_MAX)]
    )


class RankingForm(FlaskForm):
    """The judge's order of their shortlist: assignment ids, best first, comma separated."""

    order = StringField(validators=[Length(max=100_000)])

    def assignment_ids(self) -> list[int] | None:
        parts = [p for p in (self.order.data or "").split(",") if p.strip()]
        if not all(p.strip().isdigit() for p in parts):
            return None
        return [int(p) for p in parts]
