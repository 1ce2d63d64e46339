"""The figures page's contest chooser and the visit beacon's fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import AnyOf, Length, Optional


class FiguresForm(FlaskForm):
    """Which edition's figures (a GET form in the query string)."""

    class Meta:
        csrf = False

    contest = SelectField(_l("Contest"), coerce=int)

    def __init__(self, *args, contests=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.contest.choices = [(contest.id, contest.title) for contest in contests]


class VisitForm(FlaskForm):
    """What static/js/visit.js sends: a visit (its share parameter and referrer) or a share."""

    class Meta:
        csrf = False  # sent by navigator.sendBeacon, changes nothing but a counter

    kind = StringField(validators=[AnyOf(["visit", "share"])])
    src = StringField(validators=[Optional(), Length(max=40)])
    ref = StringField(validators=[Optional(), Length(max=2000)])
